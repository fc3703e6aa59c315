-- The first and last prediction over [since, until), of one model or all (model = ''), for a
-- report to state its period when no bound was given; min/max need no deduplication.
SELECT count() AS stored_rows, min(Timestamp) AS first_prediction, max(Timestamp) AS last_prediction
FROM audit_predictions
WHERE ({model:String} = '' OR ModelName = {model:String})
  AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
