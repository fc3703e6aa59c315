-- Time to review (seconds from a prediction to its first review), p50 and p95, per model version
-- and over all versions (all_versions = 1).
SELECT
    Version AS version,
    grouping(Version) AS all_versions,
    count() AS reviewed,
    quantilesExact(0.5, 0.95)(Seconds) AS seconds_p50_p95
FROM
(
    SELECT Version, PredictionId,
           (toUnixTimestamp64Milli(min(DecidedAt)) - toUnixTimestamp64Milli(any(PredictedAt))) / 1000 AS Seconds
    FROM ({{query:_oversight_linked}})
    WHERE EventName = '{{semconv.EVENT_REVIEW}}'
    GROUP BY Version, PredictionId
)
GROUP BY GROUPING SETS ((Version), ())
ORDER BY all_versions, version
