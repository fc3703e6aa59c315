-- Fragment: the whole UTC days in [since, until) whose latest user_daily build is current (built
-- from as many rows as audit_hour_rows counts in that day now), with that build's time.
SELECT built.Period AS Period, built.Latest AS BuiltAt
FROM
(
    SELECT Period, max(BuiltAt) AS Latest, argMax(SourceRows, BuiltAt) AS Source
    FROM audit_rollup_builds
    WHERE RollupName = 'user_daily' AND Period >= {since:DateTime64(9)} AND PeriodEnd <= {until:DateTime64(9)}
    GROUP BY Period
) AS built
INNER JOIN
(
    SELECT toStartOfDay(Hour, 'UTC') AS Day, sum(Rows) AS Rows
    FROM audit_hour_rows
    WHERE Hour >= {since:DateTime64(9)} AND Hour < {until:DateTime64(9)}
    GROUP BY Day
) AS counted ON built.Period = counted.Day AND built.Source = counted.Rows
