-- Per-user data access over [since, until): which models answered this user, how often.
-- Exact, one row per RecordId: whole UTC days with a current rollup merge audit_user_daily;
-- every other row is read and deduplicated here.
WITH current_days AS
(
    SELECT Period, BuiltAt
    FROM audit_rollup_current
    WHERE RollupName = 'user_daily' AND Period >= {since:DateTime64(9)} AND PeriodEnd <= {until:DateTime64(9)}
)
SELECT
    ModelName AS model,
    countMerge(Predictions) AS predictions,
    countIfMerge(Errors) AS errors,
    arraySort(groupUniqArrayMerge(Versions)) AS versions,
    minMerge(First) AS first_prediction,
    maxMerge(Last) AS last_prediction
FROM
(
    SELECT *
    FROM audit_user_daily
    WHERE UserId = {user:String} AND (Day, BuiltAt) IN (SELECT Period, BuiltAt FROM current_days)
    UNION ALL
    SELECT
        toStartOfDay(Timestamp, 'UTC') AS Day,
        UserId,
        ModelName,
        toDateTime64(0, 6, 'UTC') AS BuiltAt,
{{query:_user_states}}
    FROM
    (
        SELECT RecordId, UserId, ModelName, ModelVersion, Outcome, Timestamp
        FROM audit_predictions
        WHERE UserId = {user:String}
          AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
          AND toStartOfDay(Timestamp, 'UTC') NOT IN (SELECT Period FROM current_days)
        LIMIT 1 BY RecordId
    )
    GROUP BY Day, UserId, ModelName
)
GROUP BY ModelName
ORDER BY predictions DESC, model
