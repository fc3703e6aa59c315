-- Closed UTC days (ended before {until}) after {since} that hold rows and have no current
-- user_daily build (every one with {rebuild} = 1), with the rows they hold now (read before the
-- build, as for the hours).
SELECT toStartOfDay(Hour, 'UTC') AS period, sum(Rows) AS source_rows
FROM audit_hour_rows
WHERE Hour >= {since:DateTime64(9)} AND toStartOfDay(Hour, 'UTC') + 86400 <= {until:DateTime64(9)}
  AND ({rebuild:UInt8} OR period NOT IN (SELECT Period FROM ({{query:_user_current}})))
GROUP BY period
ORDER BY period
