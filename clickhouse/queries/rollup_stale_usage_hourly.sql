-- Closed hours (ended before {until}) after {since} that hold rows and have no current
-- usage_hourly build (every one with {rebuild} = 1), with the rows they hold now. Read before
-- the build, so a row that arrives during it makes the hour stale again instead of being missed.
SELECT Hour AS period, sum(Rows) AS source_rows
FROM audit_hour_rows
WHERE Hour >= {since:DateTime64(9)} AND Hour + 3600 <= {until:DateTime64(9)}
  AND ({rebuild:UInt8} OR Hour NOT IN (SELECT Period FROM ({{query:_usage_current}})))
GROUP BY Hour
ORDER BY period
