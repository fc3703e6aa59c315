-- Every model the store holds a prediction of, read only to name them when a report asks about
-- a model it has never seen.
SELECT DISTINCT ModelName AS model
FROM audit_predictions
WHERE ModelName != ''
ORDER BY model
