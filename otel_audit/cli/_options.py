"""The options ``otel-audit`` commands share, each defined once: one name per idea.

* ``--store DSN``: the store (:func:`otel_audit.cli._common.dsn` picks the default).
* ``--format``/``-f``: ``table``, ``json``, ``csv`` or ``html`` (every report).
* ``--out``/``-o``: every output location, whatever it is (a report file, a folder, a database).
* ``--since``/``--until``: the period, ISO 8601 UTC, ``--until`` exclusive.
* ``--signing-key``: the private ``NAME.key`` that signs (``seal``, ``evidence``, ``archive``,
  ``serve``); ``--verifier-key``: the public ``NAME.pub`` (or its text) that checks
  (``verify``, ``verify-receipt``, ``verify-pack``, ``restore``). Neither is ever called ``--key``.

``tests/test_cli.py`` (``TestOptionNames``) walks the command tree and holds every command to this.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "PANEL_EVIDENCE",
    "PANEL_OPERATE",
    "PANEL_RECORD",
    "PANEL_REPORT",
    "AnyModelOption",
    "FormatOption",
    "ModelOption",
    "OutOption",
    "SigningKeyOption",
    "SinceOption",
    "StoreOption",
    "UntilOption",
    "VerifierKeyOption",
    "out_option",
    "signing_key_option",
    "verifier_key_option",
]

PANEL_RECORD = "Record: get predictions into a store"
PANEL_REPORT = "Report: answer questions about the predictions"
PANEL_EVIDENCE = "Evidence: seal, prove, verify, erase"
PANEL_OPERATE = "Operate: run the server, keep the store"

STORE_HELP = (
    "Store DSN: chdb:///path, chdb://memory or http://host:8123 (default $OTEL_AUDIT_STORE, else the default store)."
)

StoreOption = Annotated[str | None, typer.Option("--store", help=STORE_HELP, show_default=False)]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, json, csv or html.")]
SinceOption = Annotated[str | None, typer.Option("--since", help="Start of the period (ISO 8601, UTC).")]
UntilOption = Annotated[str | None, typer.Option("--until", help="End of the period, exclusive (ISO 8601, UTC).")]
ModelOption = Annotated[str, typer.Option("--model", help="Model name.")]
AnyModelOption = Annotated[str, typer.Option("--model", help="Model name (default: every model).")]


def out_option(help_text: str) -> Any:
    """The ``--out``/``-o`` option with *help_text* saying what is written there."""
    return typer.Option("--out", "-o", help=help_text, show_default=False)


def signing_key_option(help_text: str = "Signing key file NAME.key from keygen (default $OTEL_AUDIT_SEAL_KEY).") -> Any:
    """The ``--signing-key`` option: the private key file that signs."""
    return typer.Option("--signing-key", help=help_text, show_default=False)


def verifier_key_option(help_text: str = "Verifier key: the NAME.pub file from keygen, or its text.") -> Any:
    """The ``--verifier-key`` option: the public key (file or text) that checks signatures."""
    return typer.Option("--verifier-key", help=help_text, show_default=False)


OutOption = Annotated[Path | None, out_option("Write to FILE (created 0600) instead of stdout.")]
SigningKeyOption = Annotated[Path | None, signing_key_option()]
VerifierKeyOption = Annotated[str, verifier_key_option()]
