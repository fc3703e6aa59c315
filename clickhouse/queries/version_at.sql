-- Which version(s) of a model served around time {at}: each version's first and last
-- prediction, and whether {at} falls inside that span (serving_at = 1).
SELECT
    ModelVersion AS version,
    min(Timestamp) AS first_prediction,
    max(Timestamp) AS last_prediction,
    count() AS predictions,
    (min(Timestamp) <= {at:DateTime64(9)} AND {at:DateTime64(9)} <= max(Timestamp)) AS serving_at
FROM audit_predictions
WHERE ModelName = {model:String}
GROUP BY ModelVersion
ORDER BY first_prediction
