-- Human oversight of one model in [since, until), per model version: predictions, reviewed
-- predictions, reviews by decision, predictions with a ground truth, feedback, first/last prediction.
SELECT
    p.version AS version,
    p.predictions AS predictions,
    ifNull(d.reviewed, 0) AS reviewed,
    ifNull(d.reviews, 0) AS reviews,
    ifNull(d.overrides, 0) AS overrides,
    ifNull(d.escalations, 0) AS escalations,
    ifNull(d.labelled, 0) AS labelled,
    ifNull(d.feedback, 0) AS feedback,
    p.first_prediction AS first_prediction,
    p.last_prediction AS last_prediction
FROM
(
    SELECT ModelVersion AS version, count() AS predictions, min(Timestamp) AS first_prediction,
           max(Timestamp) AS last_prediction
    FROM
    (
        SELECT ModelVersion, Timestamp
        FROM audit_predictions
        WHERE ModelName = {model:String} AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
        LIMIT 1 BY RecordId, RowHash
    )
    GROUP BY version
) AS p
LEFT JOIN
(
    SELECT
        Version AS version,
        uniqExactIf(PredictionId, EventName = '{{semconv.EVENT_REVIEW}}') AS reviewed,
        countIf(EventName = '{{semconv.EVENT_REVIEW}}') AS reviews,
        countIf(EventName = '{{semconv.EVENT_REVIEW}}' AND Decision = '{{semconv.DECISION_OVERRIDE}}') AS overrides,
        countIf(EventName = '{{semconv.EVENT_REVIEW}}' AND Decision = '{{semconv.DECISION_ESCALATE}}') AS escalations,
        uniqExactIf(PredictionId, EventName = '{{semconv.EVENT_GROUND_TRUTH}}') AS labelled,
        countIf(EventName = '{{semconv.EVENT_FEEDBACK}}') AS feedback
    FROM ({{query:_oversight_linked}})
    GROUP BY version
) AS d ON d.version = p.version
ORDER BY first_prediction, version
