"""Every leak found by independent generators and review is masked; the near misses it warns about are not.

One test per finding, on the shipped rule file through :class:`Redactor` (the SDK processors and
``serve``'s door call it the same way). The corpus tests measure rates; these pin the examples.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from otel_audit import semconv
from otel_audit.redact import Redactor, decoded_view, key_normalizer

# -- cards -----------------------------------------------------------------------------------------

CARDS = {
    "13-digit Visa": "4222222222222",
    "13-digit Visa 2": "4222012345670",
    "15-digit JCB 2131": "213101234567898",
    "15-digit JCB 1800": "180001234567899",
    "16-digit JCB 35": "3530012345678906",
    "12-digit Maestro 6304": "630401234566",
    "12-digit Maestro 6763": "676301234560",
    "dot separators": "4111.1111.1111.1111",
    "dash separators": "4111-1111-1111-1111",
    "space separators": "4111 1111 1111 1111",
    "Amex 4-6-5": "3782 822463 10005",
    "19-digit Visa": "4111 1111 1111 1111 003",
    "UnionPay 81": "8109012345678906",
}

# -- phones ----------------------------------------------------------------------------------------

PHONES = {
    "US without separators": "9119530005",
    "US with extension x": "902-742-4270x965",
    "US with extension ext.": "902-742-4270 ext. 965",
    "FR national": "0456959493",
    "DE area code in parentheses": "(00115) 300059",
    "NL area code in parentheses": "(062)-0197218",
    "UK national": "01314960855",
    "international in parentheses": "+(31) 63822-0278",
    "international, trunk in parentheses": "+44 (0)20 7946 0958",
    "IDD 00": "0044 20 7946 0958",
    "NANP exchange starting 0": "(205)060-8147",
    "area code with slash": "45/807 3021",
    "ES grouped": "612 345 678",
}

NOT_PHONES = {
    "order number failing Luhn": "Invoice 3556 0491 1620 6934 1",
    "UUID": "request 26632f6c-17e3-44a5-894e-73a43b43e30f",
    "ISO timestamp": "2021-07-23 00:21:35,630",
    "German date and time": "16.05.2025 03:35",
    "US date and time": "08/16/2025 4:46 PM",
    "epoch milliseconds": "1634576125780",
    "version": "version 10.0.19045.3693",
    "OID": "OID 1.3.6.1.4.1.55222.70",
    "ISBN": "ISBN 0-298-54639-6",
    "ISSN": "ISSN 3593-1884",
    "EAN-8": "EAN 03739098",
    "decimal": "pi is 3.14159265",
    "amount": "89 329 735,88 €",
    "identifier": "PO-4587911233",
    "SKU": "ART.-Nr. 888.190.95",
    "IBAN with a wrong check digit": "IBAN CR93 5380 5032 5861 4764 88",
    "Amazon order": "Order 565-6876029-3549069",
    "dimensions": "1964x2052",
    "SSN-shaped invalid": "000-12-3456",
}


class TestCardFindings:
    @pytest.mark.parametrize(("case", "number"), list(CARDS.items()))
    def test_masked(self, redactor: Redactor, case: str, number: str) -> None:
        """Every brand and length 12-19 with a valid Luhn digit, with any separator, is masked."""
        result = redactor.redact_text(f"card: {number}, thanks")
        assert result.value == "card: [CARD], thanks", case
        assert result.counts == {"card": 1}

    def test_card_as_integer(self, redactor: Redactor) -> None:
        """A 13-digit Visa stored as an integer is masked too."""
        assert redactor.redact({"pan": 4222222222222}).value == {"pan": "[CARD]"}


class TestPhoneFindings:
    @pytest.mark.parametrize(("case", "number"), list(PHONES.items()))
    def test_masked(self, redactor: Redactor, case: str, number: str) -> None:
        """Each phone number of the findings is masked whole, alone and inside a sentence."""
        assert redactor.redact_text(number).value == "[PHONE]", case
        assert redactor.redact_text(f"Call me back on {number} please").value == "Call me back on [PHONE] please"

    @pytest.mark.parametrize(("case", "text"), list(NOT_PHONES.items()))
    def test_near_misses_kept(self, redactor: Redactor, case: str, text: str) -> None:
        """Order numbers failing Luhn, UUIDs, timestamps, versions and other look-alikes are kept."""
        result = redactor.redact_text(text)
        assert result.value == text, (case, result.counts)


ENCODED_EMAILS = {
    "percent": "ana.lopez%40example.org",
    "percent, lower case": "ana.lopez%40example%2eorg",
    "double percent": "ana.lopez%2540example.org",
    "html decimal": "ana.lopez&#64;example.org",
    "html decimal without ;": "ana.lopez&#64example.org",
    "html hex": "ana.lopez&#x40;example.org",
    "html named": "ana.lopez&commat;example&period;org",
    "html nested": "ana.lopez&amp;#64;example.org",
    "json escape": "ana.lopez\\u0040example.org",
    "json escape upper": "ana.lopez\\u0040EXAMPLE.ORG",
    "full-width at": "ana.lopez＠example.org",
    "full-width everything": "ａｎａ．ｌｏｐｅｚ＠ｅｘａｍｐｌｅ．ｏｒｇ",
    "small commercial at": "ana.lopez﹫example.org",
}


class TestEmailEncodings:
    @pytest.mark.parametrize(("case", "text"), list(ENCODED_EMAILS.items()))
    def test_original_text_removed(self, redactor: Redactor, case: str, text: str) -> None:
        """An encoded e-mail is masked in the ORIGINAL text: nothing of the encoded address remains."""
        result = redactor.redact_text(f"mailto:{text}?subject=hi")
        assert result.value == "mailto:[EMAIL]?subject=hi", case
        assert result.counts == {"email": 1}

    def test_in_a_url(self, redactor: Redactor) -> None:
        """A percent-encoded address in a query string is masked, the rest of the URL kept."""
        url = "https://x.example/cb?user=ana%40example.org&next=%2Fhome"
        assert redactor.redact_text(url).value == "https://x.example/cb?user=[EMAIL]&next=%2Fhome"

    def test_decoded_view_maps_back(self) -> None:
        """The decoded view maps each decoded character back to the escape that produced it."""
        view = decoded_view("a%40b &#x2E; c", ("percent", "html", "json", "nfkc"))
        assert view is not None
        assert view.text == "a@b . c"
        assert view.origin(1, 2) == (1, 4)
        assert view.origin(4, 5) == (6, 12)

    def test_nothing_to_decode(self) -> None:
        """A string without escapes or compatibility characters has no decoded view."""
        assert decoded_view("plain text, déjà vu 100%", ("percent", "html", "json", "nfkc")) is None


CREDENTIAL_KEYS = [
    "pwd",
    "pass",
    "db.pass",
    "credentials",
    "credential",
    "secret_key",
    "access_key",
    "access_key_id",
    "aws_secret_access_key",
    "client_secret",
    "refresh_token",
    "session",
    "sessionid",
    "session_id",
    "jsessionid",
    "passcode",
    "pin",
    "cvv",
    "password ",
    " password",
    "pass\u200bword",
    "pass\u2060word",
    "p\u0430ssword",  # Cyrillic a
    "\u0440assword",  # Cyrillic er
    "\u03c1assword",  # Greek rho
    "ｐａｓｓｗｏｒｄ",  # full-width
    "PASSWORD",
    "Api-Key",
    "X-API-KEY",
]

KEPT_KEYS = ["passenger", "compass", "bypass", "passport_photo", "pass_rate", "max_tokens", "tokenizer", "token_count",
             "hotel", "pinned", "spinner", "session_count", "obsession", "keyboard", "secretary_name"]  # fmt: skip


class TestCredentialKeys:
    @pytest.mark.parametrize("key", CREDENTIAL_KEYS)
    def test_dropped(self, redactor: Redactor, key: str) -> None:
        """Credential keys are dropped, also with spaces, invisible characters, look-alikes and full-width letters."""
        result = redactor.redact({key: "s3cr3t-value", "other": 1})
        assert result.value == {"other": 1}, key
        assert result.counts == {"credential": 1}

    @pytest.mark.parametrize("key", KEPT_KEYS)
    def test_kept(self, redactor: Redactor, key: str) -> None:
        """Keys that merely contain a credential word (passenger, compass, max_tokens) are kept."""
        value = {key: "value"}
        assert redactor.redact(value).value is value, key

    def test_normalisation_steps(self) -> None:
        """NFKC, zero-width removal, case folding, confusables and stripping, in that order."""
        normalize = key_normalizer(("nfkc", "zero_width", "casefold", "confusables", "strip"))
        assert normalize("ＰＡＳＳ\u200bWОRD ") == "password"
        assert normalize("Straße") == "strasse"
        assert normalize("  token\ufeff") == "token"

    def test_normalised_key_kept_as_written(self, redactor: Redactor) -> None:
        """Normalisation only chooses the rule: a masked key keeps its own spelling."""
        assert redactor.redact({"ＳＳＮ": "123456789"}).value == {"ＳＳＮ": "[NATIONAL_ID]"}

    def test_attribute_keys_too(self, redactor: Redactor) -> None:
        """Attribute keys are normalised the same way."""
        result = redactor.redact_attributes({"app.pass\u200bword": "x", semconv.USER_ID: "u-1"})
        assert result.value == {semconv.USER_ID: "u-1"}


class TestBytes:
    def test_bytes_envelope_scanned(self, redactor: Redactor) -> None:
        """The canonical-JSON form of bytes is decoded, scanned and re-encoded when it holds text."""
        envelope = {"$bytes": base64.b64encode(b"mail ana@example.org or 9119530005").decode()}
        result = redactor.redact({"attachment": envelope})
        assert result.counts == {"email": 1, "phone": 1}
        assert base64.b64decode(result.value["attachment"]["$bytes"]) == b"mail [EMAIL] or [PHONE]"

    def test_clean_or_binary_envelope_kept(self, redactor: Redactor) -> None:
        """An envelope of clean text or of binary data is returned as the same object."""
        clean: dict[str, Any] = {"$bytes": base64.b64encode(b"no personal data").decode()}
        binary: dict[str, Any] = {"$bytes": base64.b64encode(bytes(range(256))).decode()}
        assert redactor.redact(clean).value is clean
        assert redactor.redact(binary).value is binary

    def test_not_an_envelope(self, redactor: Redactor) -> None:
        """A "$bytes" member next to others, or not base64, is an ordinary map."""
        value = {"$bytes": "ana@example.org"}
        assert redactor.redact(value).value == {"$bytes": "[EMAIL]"}

    def test_raw_bytes(self, redactor: Redactor) -> None:
        """Raw bytes that are UTF-8 text are scanned; binary bytes are kept as they are."""
        assert redactor.redact(b"to ana@example.org").value == "to [EMAIL]"
        binary = b"\xff\xfe ana@example.org"
        assert redactor.redact(binary).value is binary


class TestSplitValues:
    @pytest.mark.parametrize(
        ("items", "token"),
        [
            (["ana.lopez", "@example.org"], "[EMAIL]"),
            (["4111 ", "1111 ", "1111 ", "1111"], "[CARD]"),
            (["4111", "1111", "1111", "1111"], "[CARD]"),
            (["+44", "20", "7946", "0958"], "[PHONE]"),
            (["(409)", "589-", "0269"], "[PHONE]"),
            (["DE89", "3704", "0044", "0532", "0130", "00"], "[IBAN]"),
        ],
    )
    def test_value_split_over_items(self, redactor: Redactor, items: list[str], token: str) -> None:
        """A value split over consecutive string items is masked in every item it touches."""
        result = redactor.redact({"parts": items})
        assert result.value == {"parts": [token] * len(items)}
        assert sum(result.counts.values()) == 1

    def test_partial_items(self, redactor: Redactor) -> None:
        """Only the parts of the items that belong to the value are replaced."""
        assert redactor.redact(["call 0171 ", "5942400 now"]).value == ["call [PHONE]", "[PHONE] now"]

    def test_unrelated_items_not_glued(self, redactor: Redactor) -> None:
        """A date and a time in two items are not read as one number; nor are integers."""
        for value in (["2024-05-17", "10:30"], ["retail", "eu"], [4111, 1111, 1111, 1111]):
            assert redactor.redact(value).value is value
