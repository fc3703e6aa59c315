-- Build audit_user_daily for the UTC days {periods} within [since, until): one row per record (RecordId, RowHash).
INSERT INTO audit_user_daily
SELECT
    toStartOfDay(Timestamp, 'UTC') AS Day,
    UserId,
    ModelName,
    {built_at:DateTime64(6)} AS BuiltAt,
{{query:_user_states}}
FROM
(
    SELECT RecordId, UserId, ModelName, ModelVersion, Outcome, Timestamp
    FROM audit_predictions
    WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
      AND toStartOfDay(Timestamp, 'UTC') IN {periods:Array(DateTime)}
    LIMIT 1 BY RecordId, RowHash
)
GROUP BY Day, UserId, ModelName
