-- The request ids `otel-audit demo` has stored already (its request ids start with the prefix),
-- so a second run writes only what is missing.
SELECT DISTINCT RequestId
FROM audit_predictions
WHERE startsWith(RequestId, {prefix:String})
