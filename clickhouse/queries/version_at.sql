-- Which version(s) of a model served around time {at}: each version's first and last
-- prediction, how many (one per record), and whether {at} falls inside that span
-- (serving_at = 1). Whole hours with a current rollup merge audit_usage_hourly; {since} and
-- {until} bound the whole store.
SELECT
    ModelVersion AS version,
    minMerge(First) AS first_prediction,
    maxMerge(Last) AS last_prediction,
    countMerge(Predictions) AS predictions,
    (first_prediction <= {at:DateTime64(9)} AND {at:DateTime64(9)} <= last_prediction) AS serving_at
FROM
(
    SELECT ModelVersion, Predictions, First, Last
    FROM audit_usage_hourly
    WHERE ModelName = {model:String} AND (Hour, BuiltAt) IN ({{query:_usage_current}})
    UNION ALL
    SELECT ModelVersion, countState() AS Predictions, minState(Timestamp) AS First, maxState(Timestamp) AS Last
    FROM
    (
        SELECT RecordId, ModelVersion, Timestamp
        FROM audit_predictions
        WHERE ModelName = {model:String} AND toStartOfHour(Timestamp, 'UTC') IN ({{query:_usage_stale}})
        LIMIT 1 BY RecordId, RowHash
    )
    GROUP BY ModelVersion
)
GROUP BY ModelVersion
ORDER BY first_prediction
