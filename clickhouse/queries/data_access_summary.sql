-- Per-user data access over [since, until): which models answered this user, how often.
-- Exact, one row per record (RecordId, RowHash): whole UTC days with a current rollup merge audit_user_daily;
-- the rows of every other day are read and deduplicated here.
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
    WHERE UserId = {user:String} AND (Day, BuiltAt) IN ({{query:_user_current}})
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
          AND toStartOfDay(Timestamp, 'UTC') IN ({{query:_user_stale}})
        LIMIT 1 BY RecordId, RowHash
    )
    GROUP BY Day, UserId, ModelName
)
GROUP BY ModelName
ORDER BY predictions DESC, model
