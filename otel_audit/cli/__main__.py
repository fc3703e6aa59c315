"""``python -m otel_audit.cli``: the ``otel-audit`` command."""

from otel_audit.cli import main

main()
