-- Test-only fault injection of `otel-audit serve` (OTEL_AUDIT_SERVE_FAULTS=1): makes log inserts fail.
DETACH TABLE otel_logs
