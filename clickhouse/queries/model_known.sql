-- Whether the store holds any prediction of {model}: one primary-key lookup (audit_predictions is
-- ordered by ModelName), so every report about one model can ask it first.
SELECT count() AS known
FROM (SELECT 1 FROM audit_predictions WHERE ModelName = {model:String} LIMIT 1)
