-- Rows already in the restore target's audit tables (a restore needs them empty).
SELECT
    (SELECT count() FROM audit_predictions) AS audit_predictions,
    (SELECT count() FROM otel_logs) AS otel_logs
