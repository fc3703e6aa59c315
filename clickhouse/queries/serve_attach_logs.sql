-- Test-only fault injection of `otel-audit serve`: undoes serve_detach_logs.
ATTACH TABLE otel_logs
