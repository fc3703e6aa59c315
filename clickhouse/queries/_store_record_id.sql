        lower(hex(SHA256(toJSONString(tuple(
            'otel-audit.record/store/1', toUnixTimestamp64Nano(Timestamp), TraceId, SpanId, SeverityNumber,
            SeverityText, EventName, Body, mapSort(LogAttributes), mapSort(ResourceAttributes), ScopeName, ScopeVersion
        )))))
