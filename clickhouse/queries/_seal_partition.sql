-- Fragment: the rows (or leaves) of one of verify's partitions by record id.
cityHash64(RecordId) % {partitions:UInt64} = {partition:UInt64}
