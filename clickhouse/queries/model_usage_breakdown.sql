-- Model usage over [since, until) broken down by one dimension: version, outcome or label.
SELECT
    multiIf({dimension:String} = 'version', ModelVersion,
            {dimension:String} = 'outcome', Outcome,
            OutputLabel) AS value,
    count() AS predictions,
    min(Timestamp) AS first_prediction,
    max(Timestamp) AS last_prediction
FROM
(
    SELECT RecordId, ModelVersion, Outcome, OutputLabel, Timestamp
    FROM audit_predictions
    WHERE ModelName = {model:String}
      AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    LIMIT 1 BY RecordId
)
GROUP BY value
ORDER BY predictions DESC, value
