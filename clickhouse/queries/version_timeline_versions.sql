-- Version timeline of one model over [since, until): each version's first and last prediction,
-- its volume, and the version whose prediction came just before its first one (the change point).
SELECT
    version,
    count() AS predictions,
    min(Timestamp) AS first_prediction,
    max(Timestamp) AS last_prediction,
    argMin(previous_version, (Timestamp, RecordId)) AS replaced
FROM
(
    SELECT
        ModelVersion AS version,
        Timestamp,
        RecordId,
        lagInFrame(ModelVersion, 1, '') OVER (
            ORDER BY Timestamp, RecordId ROWS BETWEEN 1 PRECEDING AND CURRENT ROW
        ) AS previous_version
    FROM
    (
        SELECT RecordId, ModelVersion, Timestamp
        FROM audit_predictions
        WHERE ModelName = {model:String}
          AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
        LIMIT 1 BY RecordId, RowHash
    )
)
GROUP BY version
ORDER BY first_prediction, version
