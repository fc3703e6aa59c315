-- Predictions of one model per UTC day and version over [since, until), oldest day first.
SELECT
    toDate(Timestamp) AS day,
    ModelVersion AS version,
    count() AS predictions,
    countIf(Outcome = 'error') AS errors
FROM
(
    SELECT RecordId, ModelVersion, Outcome, Timestamp
    FROM audit_predictions
    WHERE ModelName = {model:String}
      AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    LIMIT 1 BY RecordId, RowHash
)
GROUP BY day, version
ORDER BY day, version
