-- Predicted label against observed outcome (the latest ground truth of each prediction), per
-- model version; erased labels and outcomes are left out.
SELECT Version AS version, Label AS predicted, Actual AS actual, count() AS predictions
FROM
(
    SELECT Version, PredictionId, any(Label) AS Label, argMax(Truth, (DecidedAt, EventId)) AS Actual
    FROM ({{query:_oversight_linked}})
    WHERE EventName = '{{semconv.EVENT_GROUND_TRUTH}}'
    GROUP BY Version, PredictionId
)
WHERE Label != '' AND NOT startsWith(Label, '{"$erased":') AND NOT startsWith(Actual, '{"$erased":')
GROUP BY version, predicted, actual
ORDER BY version, predicted, actual
