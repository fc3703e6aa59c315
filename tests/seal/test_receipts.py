"""Per-prediction receipts: built from the store, verified offline, broken by any changed byte."""

from __future__ import annotations

import json
import os

import pytest

from otel_audit.seal import SealError
from otel_audit.seal.checkpoint import NoteSigner
from otel_audit.seal.receipts import build_receipt, encode_receipt, verify_receipt
from otel_audit.seal.sealer import seal
from otel_audit.store.connect import Store


@pytest.fixture
def receipt_text(filled: Store, signer: NoteSigner) -> str:
    """The receipt of request r5 after sealing."""
    seal(filled, signer)
    return encode_receipt(build_receipt(filled, "r5"))


class TestReceipts:
    def test_receipt_verifies_offline(self, receipt_text: str, signer: NoteSigner) -> None:
        """A receipt verifies with the verifier key alone and names its record."""
        summary = verify_receipt(receipt_text, signer.verifier)
        assert summary["request_id"] == "r5" and summary["tree_size"] == 12
        receipt = json.loads(receipt_text)
        assert json.loads(receipt["input"]) == {"amount": 7.5, "card": "4111-0005"}
        assert receipt["record"]["input_sha256"] and "input" not in receipt["record"]

    def test_any_changed_byte_fails(self, receipt_text: str, signer: NoteSigner) -> None:
        """Changing any single byte of the receipt makes verification fail."""
        data = receipt_text.encode()
        for position in range(len(data)):
            changed = bytearray(data)
            changed[position] = changed[position] ^ 0x01
            text = changed.decode("utf-8", "replace")
            with pytest.raises(SealError):
                verify_receipt(text, signer.verifier)

    def test_wrong_key_fails(self, receipt_text: str) -> None:
        """A receipt does not verify under another key."""
        with pytest.raises(SealError, match="not signed by key"):
            verify_receipt(receipt_text, NoteSigner("audit.test", os.urandom(32)).verifier)

    def test_unsealed_and_unknown_requests_are_refused(self, filled: Store, signer: NoteSigner) -> None:
        """No receipt for an unknown request or one not sealed yet."""
        with pytest.raises(SealError, match="not sealed yet"):
            build_receipt(filled, "r1")
        seal(filled, signer)
        with pytest.raises(SealError, match="no audit record"):
            build_receipt(filled, "nope")

    def test_tampered_record_gets_no_receipt(self, filled: Store, signer: NoteSigner) -> None:
        """prove refuses to vouch for a record that differs from its leaf."""
        seal(filled, signer)
        filled.command(
            "ALTER TABLE audit_predictions UPDATE UserId = 'mallory' WHERE RequestId = 'r3'",
            settings={"mutations_sync": 2},
        )
        with pytest.raises(SealError, match="differs from its sealed leaf"):
            build_receipt(filled, "r3")
