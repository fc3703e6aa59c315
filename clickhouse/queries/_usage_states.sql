-- Fragment: the aggregate states of model usage over deduplicated audit_predictions rows, in the
-- column order of audit_usage_hourly after BuiltAt (used by rollup_build_usage and model_usage).
    countState() AS Predictions,
    countIfState(Outcome = 'ok') AS Ok,
    countIfState(Outcome = 'error') AS Errors,
    uniqExactIfState(UserId, UserId != '') AS Users,
    sumState(BatchSize) AS RowsPredicted,
    quantilesExactState(0.5, 0.95, 0.99)(LatencyMs) AS Latency,
    maxState(LatencyMs) AS LatencyMax,
    avgState(LatencyMs) AS LatencyMean,
    minState(Timestamp) AS First,
    maxState(Timestamp) AS Last,
    sumMapState(map(ModelVersion, toUInt64(1))) AS Versions,
    sumMapState(map(Outcome, toUInt64(1))) AS Outcomes,
    sumMapIfState(map(OutputLabel, toUInt64(1)), OutputLabel != '') AS Labels
