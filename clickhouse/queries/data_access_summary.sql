-- Per-user data access over [since, until): which models answered this user, how often.
SELECT
    ModelName AS model,
    count() AS predictions,
    countIf(Outcome = 'error') AS errors,
    groupUniqArray(ModelVersion) AS versions,
    min(Timestamp) AS first_prediction,
    max(Timestamp) AS last_prediction
FROM
(
    SELECT RecordId, ModelName, ModelVersion, Outcome, Timestamp
    FROM audit_predictions
    WHERE UserId = {user:String}
      AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    LIMIT 1 BY RecordId
)
GROUP BY ModelName
ORDER BY predictions DESC, model
