-- Fragment: the whole hours in [since, until) whose latest usage_hourly build is current (built
-- from as many rows as audit_hour_rows counts in that hour now), with that build's time.
SELECT built.Period AS Period, built.Latest AS BuiltAt
FROM
(
    SELECT Period, max(BuiltAt) AS Latest, argMax(SourceRows, BuiltAt) AS Source
    FROM audit_rollup_builds
    WHERE RollupName = 'usage_hourly' AND Period >= {since:DateTime64(9)} AND PeriodEnd <= {until:DateTime64(9)}
    GROUP BY Period
) AS built
INNER JOIN
(
    SELECT Hour, sum(Rows) AS Rows
    FROM audit_hour_rows
    WHERE Hour >= {since:DateTime64(9)} AND Hour < {until:DateTime64(9)}
    GROUP BY Hour
) AS counted ON built.Period = counted.Hour AND built.Source = counted.Rows
