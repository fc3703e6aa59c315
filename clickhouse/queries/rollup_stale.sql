-- Closed periods of one rollup ({rollup}: usage_hourly or user_daily, {seconds} long) that hold
-- rows but have no current build (every one with {rebuild} = 1), with the row count they cover now. Read before the build, so a
-- row that arrives during it makes the period stale again instead of being missed.
SELECT present.Period AS period, counted.Rows AS source_rows
FROM
(
    SELECT DISTINCT toStartOfInterval(Timestamp, toIntervalSecond({seconds:UInt32}), 'UTC') AS Period
    FROM audit_predictions
    WHERE Timestamp >= {since:DateTime64(9)} AND Timestamp < {before:DateTime64(9)}
) AS present
LEFT JOIN
(
    SELECT Period, Rows FROM audit_period_rows WHERE RollupName = {rollup:String}
) AS counted ON present.Period = counted.Period
WHERE present.Period + {seconds:UInt32} <= {before:DateTime64(9)}
  AND ({rebuild:UInt8} OR present.Period NOT IN (SELECT Period FROM audit_rollup_current WHERE RollupName = {rollup:String}))
ORDER BY period
