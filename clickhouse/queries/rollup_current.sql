-- The current rollup periods of both kinds in [since, until) (diagnostics and tests).
SELECT rollup, period, built_at
FROM
(
    SELECT 'usage_hourly' AS rollup, Period AS period, BuiltAt AS built_at FROM ({{query:_usage_current}})
    UNION ALL
    SELECT 'user_daily' AS rollup, Period AS period, BuiltAt AS built_at FROM ({{query:_user_current}})
)
ORDER BY rollup, period
