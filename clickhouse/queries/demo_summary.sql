-- What the demo store holds per model (the demo's request ids start with the prefix), one row per
-- stored record (RecordId, RowHash).
SELECT
    ModelName AS model,
    count() AS predictions,
    countIf(Outcome != 'ok') AS errors,
    arraySort(groupUniqArray(ModelVersion)) AS versions
FROM
(
    SELECT ModelName, ModelVersion, Outcome
    FROM audit_predictions
    WHERE startsWith(RequestId, {prefix:String})
    LIMIT 1 BY RecordId, RowHash
)
GROUP BY model
ORDER BY model
