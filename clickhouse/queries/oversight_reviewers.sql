-- Reviews of one model's predictions in [since, until), per reviewer: reviews, overrides,
-- escalations, predictions reviewed, and the median seconds from prediction to that review.
SELECT
    Actor AS reviewer,
    count() AS reviews,
    countIf(Decision = '{{semconv.DECISION_OVERRIDE}}') AS overrides,
    countIf(Decision = '{{semconv.DECISION_ESCALATE}}') AS escalations,
    uniqExact(PredictionId) AS predictions_reviewed,
    quantileExact(0.5)((toUnixTimestamp64Milli(DecidedAt) - toUnixTimestamp64Milli(PredictedAt)) / 1000) AS seconds_p50
FROM ({{query:_oversight_linked}})
WHERE EventName = '{{semconv.EVENT_REVIEW}}'
GROUP BY reviewer
ORDER BY reviews DESC, reviewer
