-- Fragment: a row (or leaf) whose record id falls in one of seal's key buckets.
cityHash64(RecordId) % {buckets:UInt64} = {bucket:UInt64}
