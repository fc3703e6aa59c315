-- Fragment: the hours that hold rows in [since, until) and have no current usage_hourly build
-- (the partial hours at both ends among them): the rows a report must read itself.
SELECT Hour
FROM audit_hour_rows
WHERE Hour >= toStartOfHour({since:DateTime64(9)}, 'UTC') AND Hour < {until:DateTime64(9)}
  AND Hour NOT IN (SELECT Period FROM ({{query:_usage_current}}))
