-- Fragment: the UTC days that hold rows in [since, until) and have no current user_daily build
-- (the partial days at both ends among them): the rows a report must read itself.
SELECT toStartOfDay(Hour, 'UTC') AS Day
FROM audit_hour_rows
WHERE Hour >= toStartOfDay({since:DateTime64(9)}, 'UTC') AND Hour < {until:DateTime64(9)}
  AND Day NOT IN (SELECT Period FROM ({{query:_user_current}}))
