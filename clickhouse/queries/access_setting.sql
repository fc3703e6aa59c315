-- The store owner's setting {name}: its newest value (the current one) and its oldest (the one a
-- key keeps for ever); no row when it was never set.
SELECT argMax(Value, SetAt) AS newest, argMin(Value, SetAt) AS oldest
FROM otel_audit_settings
WHERE Name = {name:String}
HAVING count() > 0
