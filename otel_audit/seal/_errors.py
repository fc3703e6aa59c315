"""Errors of the sealing subsystem (part of :class:`~otel_audit.errors.OtelAuditError`)."""

from __future__ import annotations

from otel_audit.errors import OtelAuditError

__all__ = ["KeyFormatError", "NoteError", "SealError"]


class SealError(OtelAuditError):
    """Sealing, proving, erasing or packing evidence could not be done."""


class KeyFormatError(SealError):
    """A signing key or verifier key file is not in the expected format."""


class NoteError(SealError):
    """A signed note or checkpoint is malformed or its signature does not verify."""
