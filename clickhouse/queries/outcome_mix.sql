-- Outcome and error mix over [since, until), for one model or all (model = ''): predictions per
-- (model, outcome, error type), with the latest error message as an example.
SELECT
    ModelName AS model,
    Outcome AS outcome,
    ErrorType AS error_type,
    count() AS predictions,
    min(Timestamp) AS first_seen,
    max(Timestamp) AS last_seen,
    argMax(ErrorMessage, Timestamp) AS example_message
FROM
(
    SELECT RecordId, ModelName, Outcome, ErrorType, ErrorMessage, Timestamp
    FROM audit_predictions
    WHERE ({model:String} = '' OR ModelName = {model:String})
      AND Timestamp >= {since:DateTime64(9)} AND Timestamp < {until:DateTime64(9)}
    LIMIT 1 BY RecordId, RowHash
)
GROUP BY model, outcome, error_type
ORDER BY model, predictions DESC, outcome, error_type
