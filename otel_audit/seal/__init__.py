"""Tamper evidence: an RFC 6962 Merkle tree over the audit records, signed checkpoints,
inclusion receipts, GDPR erasure that keeps the seal, and offline evidence packs.

See ``docs/tamper-evidence.md`` for the design, the formats and the threat model.
"""

from __future__ import annotations

from otel_audit.seal._errors import KeyFormatError, NoteError, SealError
from otel_audit.seal.checkpoint import NoteSigner, NoteVerifier, generate_key, load_signer, load_verifier
from otel_audit.seal.scheduler import SealScheduler
from otel_audit.seal.sealer import SealResult, VerifyReport, seal, verify

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
