"""Tamper evidence: an RFC 6962 Merkle tree over the audit records, signed checkpoints,
inclusion receipts, GDPR erasure that keeps the seal, and offline evidence packs.

See ``docs/tamper-evidence.md`` for the design, the formats and the threat model.

``otel_audit.seal.verify`` is the function :func:`~otel_audit.seal.verify.verify` (the package
exports it under its module's name); import the module's other names with
``from otel_audit.seal.verify import …``.
"""

from __future__ import annotations

from otel_audit.seal._errors import KeyFormatError, NoteError, SealError
from otel_audit.seal.checkpoint import NoteSigner, NoteVerifier, generate_key, load_signer, load_verifier
from otel_audit.seal.scheduler import SealScheduler
from otel_audit.seal.sealer import SealResult, seal
from otel_audit.seal.verify import VerifyReport, verify

__all__ = [
    "KeyFormatError",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "SealError",
    "SealResult",
    "SealScheduler",
    "VerifyReport",
    "generate_key",
    "load_signer",
    "load_verifier",
    "seal",
    "verify",
]
