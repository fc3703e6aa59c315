-- Rows already in the restore target's audit and seal tables (a restore needs them empty).
SELECT
    (SELECT count() FROM audit_predictions) AS audit_predictions,
    (SELECT count() FROM audit_events) AS audit_events,
    (SELECT count() FROM otel_logs) AS otel_logs,
    (SELECT count() FROM audit_seal_leaves) AS audit_seal_leaves,
    (SELECT count() FROM audit_seal_checkpoints) AS audit_seal_checkpoints,
    (SELECT count() FROM audit_erasures) AS audit_erasures
