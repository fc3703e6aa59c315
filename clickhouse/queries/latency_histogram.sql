-- Latency distribution of one model over [since, until): predictions per bucket, where bucket i
-- holds latencies in [edges[i-1], edges[i]) ms (bucket 1 starts at 0; bucket length+1 is the rest).
SELECT
    bucket,
    count() AS predictions
FROM
(
    SELECT
        if(arrayFirstIndex(e -> LatencyMs < e, {edges:Array(Float64)}) = 0,
           length({edges:Array(Float64)}) + 1,
           arrayFirstIndex(e -> LatencyMs < e, {edges:Array(Float64)})) AS bucket
    FROM
    (
        SELECT RecordId, LatencyMs
        FROM audit_predictions
        WHERE ModelName = {model:String}
          AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
        LIMIT 1 BY RecordId, RowHash
    )
)
GROUP BY bucket
ORDER BY bucket
