-- Months (first day, UTC) holding audit rows older than {cutoff}: the candidates for archiving.
SELECT month
FROM
(
    SELECT DISTINCT toStartOfMonth(Timestamp) AS month
    FROM audit_predictions
    WHERE Timestamp < {cutoff:DateTime64(9)}
    UNION DISTINCT
    SELECT DISTINCT toStartOfMonth(Timestamp) AS month
    FROM audit_events
    WHERE Timestamp < {cutoff:DateTime64(9)}
    UNION DISTINCT
    SELECT DISTINCT toStartOfMonth(Timestamp) AS month
    FROM otel_logs
    WHERE (EventName = '{{semconv.EVENT_PREDICTION}}' OR EventName IN ({{semconv.AUDIT_EVENTS}}))
      AND Timestamp < {cutoff:DateTime64(9)}
)
ORDER BY month
