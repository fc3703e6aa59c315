"""Validators (Luhn, IBAN mod-97, …) and each shipped detector on true positives and near misses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otel_audit.redact import PhoneValidator, Redactor, card_brand, card_number_plausible, iban_valid, luhn_valid
from otel_audit.redact.detectors import (
    NORMALIZERS,
    validate_card,
    validate_iban,
    validate_ipv4,
    validate_ipv6,
    validate_ssn,
)


def whole(validator: object, text: str) -> list[tuple[int, int]]:
    return list(validator(text, 0, len(text)))  # type: ignore[operator]


class TestLuhn:
    @pytest.mark.parametrize(
        "number", ["4111111111111111", "5500005555555559", "378282246310005", "6011111111111117", "79927398713"]
    )
    def test_valid(self, number: str) -> None:
        """Published test card numbers pass the Luhn check."""
        assert luhn_valid(number)

    @pytest.mark.parametrize("number", ["4111111111111112", "79927398710", "1", "", "4111-1111", "４１１１"])
    def test_invalid(self, number: str) -> None:
        """A wrong check digit, too few digits or non-ASCII digits fail."""
        assert not luhn_valid(number)

    @given(st.text(alphabet="0123456789", min_size=1, max_size=18))
    def test_exactly_one_check_digit(self, body: str) -> None:
        """For any body exactly one of the ten possible check digits is valid."""
        assert sum(luhn_valid(body + digit) for digit in "0123456789") == 1

    @given(st.text(alphabet="0123456789", min_size=2, max_size=18), st.data())
    def test_single_digit_errors_detected(self, number: str, data: st.DataObject) -> None:
        """Changing one digit of a valid number always breaks the check."""
        valid = next(number[:-1] + digit for digit in "0123456789" if luhn_valid(number[:-1] + digit))
        position = data.draw(st.integers(0, len(valid) - 1))
        replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != valid[position]]))
        assert not luhn_valid(valid[:position] + replacement + valid[position + 1 :])


class TestCardBrand:
    @pytest.mark.parametrize(
        ("number", "brand"),
        [("4111111111111111", "visa"), ("5500005555555559", "mastercard"), ("2221000000000009", "mastercard"),
         ("378282246310005", "amex"), ("6011111111111117", "discover"), ("3530111333300000", "jcb"),
         ("36227206271667", "diners"), ("6200000000000005", "unionpay"), ("4222222222222", "visa"),
         ("213101234567898", "jcb"), ("180001234567899", "jcb"), ("630401234566", "maestro")],
    )  # fmt: skip
    def test_known_networks(self, number: str, brand: str) -> None:
        """Issuer prefixes and lengths map to their network (13-digit Visa and 12-digit Maestro included)."""
        assert card_brand(number) == brand

    @pytest.mark.parametrize("number", ["1234567812345670", "37828224631000", "7111111111111111"])
    def test_unknown(self, number: str) -> None:
        """Unknown prefixes and wrong lengths have no network."""
        assert card_brand(number) is None

    @pytest.mark.parametrize(
        ("number", "plausible"),
        [("630401234566", True), ("676301234560", True), ("411111111111", False), ("4222012345670", True),
         ("5500005555555559", True), ("213101234567898", True), ("1800012345678990", False),
         ("8109012345678906", True), ("7111111111111111", False), ("0111111111111111", False),
         ("41111111111111111111", False)],
    )  # fmt: skip
    def test_plausible_lengths(self, number: str, plausible: bool) -> None:
        """Card lengths by first digits: 12-13 only for Maestro/Visa prefixes, 1 only at 15, never 0 or 7."""
        assert card_number_plausible(number) is plausible


class TestIban:
    @pytest.mark.parametrize(
        "iban",
        ["DE89370400440532013000", "GB29NWBK60161331926819", "FR1420041010050500013M02606", "NL91ABNA0417164300",
         "CH9300762011623852957", "NO9386011117947", "BE68539007547034", "gb29nwbk60161331926819"],
    )  # fmt: skip
    def test_valid(self, iban: str) -> None:
        """Published example IBANs (any case) pass length and mod-97 checks."""
        assert iban_valid(iban)

    @pytest.mark.parametrize(
        "iban",
        [
            "DE89370400440532013001",
            "DE8937040044053201300",
            "XX89370400440532013000",
            "DE00370400440532013000",
            "DE89 3704",
        ],
    )
    def test_invalid(self, iban: str) -> None:
        """A changed digit, wrong length, unknown country or spaces fail."""
        assert not iban_valid(iban)

    def test_trims_to_country_length(self) -> None:
        """A run that went on into the next upper-case word is cut at the country's length."""
        text = "DE89 3704 0044 0532 0130 00 BIC COBADEFF"
        assert validate_iban(text, 0, len(text) - 9) == [(0, 27)]

    def test_glued_word_rejected(self) -> None:
        """An IBAN-length prefix of a longer token is not an IBAN."""
        assert whole(validate_iban, "DE89370400440532013000X") == []

    def test_two_ibans_in_one_run(self) -> None:
        """An IBAN starting inside the run of another word, or reaching past the run, is found."""
        text = "XX12 DE89 3704 0044 0532 0130 00 GB29 NWBK 6016 1331 9268 19"
        assert [text[a:b] for a, b in validate_iban(text, 0, 40)] == [
            "DE89 3704 0044 0532 0130 00",
            "GB29 NWBK 6016 1331 9268 19",
        ]

    def test_dashes(self) -> None:
        """Groups joined by dashes are read like groups joined by spaces."""
        assert whole(validate_iban, "PL86-9904-5100-5001-6115-5286-2894") == [(0, 34)]


class TestValidators:
    def test_card_trims_trailing_group(self) -> None:
        """A card followed by another number keeps the longest valid prefix."""
        text = "4111 1111 1111 1111 12"
        assert validate_card(text, 0, len(text)) == [(0, 19)]

    def test_two_cards_in_one_run(self) -> None:
        """Two cards written one after the other are both found."""
        text = "4111 1111 1111 1111 5500 0055 5555 5559"
        assert validate_card(text, 0, len(text)) == [(0, 19), (20, 39)]

    def test_card_shapes(self) -> None:
        """Grouped cards need one separator kind and 4-4-..., 4-6-5 or 4-6-4 groups."""
        assert whole(validate_card, "3782 822463 10005") == [(0, 17)]
        assert whole(validate_card, "4111.1111.1111.1111") == [(0, 19)]
        assert whole(validate_card, "4111 1111-1111 1111") == []
        assert whole(validate_card, "41 1111 1111 1111 11") == []

    def test_card_glued_or_decimal(self) -> None:
        """A card glued to a letter, or the fraction of a decimal number, is not a card."""
        assert validate_card("4111111111111111abc", 0, 16) == []
        assert validate_card("0.4111111111111111", 0, 18) == []

    @pytest.mark.parametrize(
        ("ssn", "ok"),
        [("123-45-6789", True), ("000-12-3456", False), ("666-12-3456", False),
         ("912-12-3456", False), ("123-00-4567", False), ("123-45-0000", False)],
    )  # fmt: skip
    def test_ssn_rules(self, ssn: str, ok: bool) -> None:
        """SSA rules: area not 000/666/9xx, group not 00, serial not 0000."""
        assert bool(whole(validate_ssn, ssn)) is ok

    @pytest.mark.parametrize(
        ("text", "start", "end", "ok"),
        [("ip 203.0.113.9", 3, 14, True), ("1.3.6.1.4.1", 0, 7, False),
         ("x 127.0.0.1", 2, 11, False), ("4.0.0.0", 0, 7, False)],
    )  # fmt: skip
    def test_ipv4_context(self, text: str, start: int, end: int, ok: bool) -> None:
        """IPv4 inside longer dotted numbers, loopback and x.0.0.0 are rejected."""
        assert bool(validate_ipv4(text, start, end)) is ok

    @pytest.mark.parametrize(
        ("text", "ok"),
        [("2001:db8::1", True), ("::1", False), ("::", False), ("dead::beef", False),
         ("1:2:3", False), ("fe80::1ff:fe23:4567:890a", True)],
    )  # fmt: skip
    def test_ipv6(self, text: str, ok: bool) -> None:
        """IPv6 must parse, contain a digit, and not be unspecified or loopback."""
        assert bool(whole(validate_ipv6, text)) is ok

    def test_normalizers(self) -> None:
        """Normalizers give pseudonyms a canonical input."""
        assert NORMALIZERS["digits"]("+44 (0)20-7946") == "+440207946"
        assert NORMALIZERS["lower"]("A@B.COM") == "a@b.com"
        assert NORMALIZERS["alnum"]("de89 3704") == "DE893704"
        assert NORMALIZERS["ip"]("2001:0DB8::0001") == "2001:db8::1"


@pytest.fixture(scope="module")
def phone() -> PhoneValidator:
    """A phone validator on the default regions."""
    return PhoneValidator()


class TestPhoneValidator:
    @pytest.mark.parametrize(
        ("text", "ok"), [("+44 20 7946 0958", True), ("+1 555", False), ("+1234567890123456789", False)]
    )
    def test_international_lengths(self, phone: PhoneValidator, text: str, ok: bool) -> None:
        """An international number needs a country code and a possible national length."""
        assert bool(whole(phone, text)) is ok

    def test_trunk_after_country_code(self, phone: PhoneValidator) -> None:
        """A trunk prefix written after the country code, (0), is dropped before the length check."""
        assert whole(phone, "+44 (0)20 7946 0958") == [(0, 19)]

    def test_nanp_country_code(self, phone: PhoneValidator) -> None:
        """A bare NANP country code 1- belongs to the number."""
        assert whole(phone, "1-800-555-0199") == [(0, 14)]

    def test_extension_included(self, phone: PhoneValidator) -> None:
        """An extension after the number is part of its span."""
        assert whole(phone, "902-742-4270x965") == [(0, 16)]
        assert whole(phone, "902-742-4270 ext. 965") == [(0, 21)]

    def test_concatenated_numbers_split(self, phone: PhoneValidator) -> None:
        """Two national numbers separated by one space are split into both numbers."""
        text = "020 7946 0958 020 7946 0959"
        assert whole(phone, text) == [(0, 13), (14, 27)]

    def test_whole_run_or_nothing(self, phone: PhoneValidator) -> None:
        """A run that is not phone numbers from end to end (a long reference) holds none."""
        assert whole(phone, "3556 0491 1620 6934 1") == []
        assert whole(phone, "5123 0456 7890 1234") == []

    def test_dates_skipped(self, phone: PhoneValidator) -> None:
        """A calendar date before a number is not part of it, and a date with a time is no number."""
        text = "2024-05-17 0171 5942400"
        assert whole(phone, text) == [(11, len(text))]
        assert whole(phone, "2024-05-17 10") == []

    def test_unknown_region_refused(self) -> None:
        """A region libphonenumber does not know is refused at construction."""
        with pytest.raises(ValueError, match="XX"):
            PhoneValidator(["US", "XX"])

    def test_regions_decide_national_forms(self) -> None:
        """Without a NANP region, a bare US number is not recognised; international ones always are."""
        europe = PhoneValidator(["FR", "DE"])
        assert whole(europe, "9119530005") == []
        assert whole(europe, "+1 415 555 2671") == [(0, 15)]


# Per detector: strings that must be caught (token expected) and near misses that must survive.
CASES: dict[str, tuple[list[str], list[str]]] = {
    "email": (
        [
            "ana@example.org",
            "José.García@correo.es",
            "иван@пример.рф",
            "张伟@例子.中国",
            "a.b+tag@sub.example.co.uk",
            "X@Y.COM",
        ],
        ["lodash@4.17.21", "user@localhost", "@channel", "a @ b.com", "python@3.11"],
    ),
    "iban": (
        ["DE89 3704 0044 0532 0130 00", "GB29NWBK60161331926819", "fr1420041010050500013m02606", "NO93 8601 1117 947"],
        [
            "DE89 3704 0044 0532 0130 01",
            "DE00370400440532013000",
            "AB12 3456 7890 1234 5678",
            "DE8937040044053201300099",
        ],
    ),
    "card": (
        [
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "5500005555555559",
            "3782 822463 10005",
            "36227206271667",
            "4222222222222",
            "4222012345670",
            "213101234567898",
            "180001234567899",
            "3530012345678906",
            "630401234566",
            "676301234560",
            "4111.1111.1111.1111",
            "5500 0055 5555 5559",
            "8109012345678906",
        ],
        [
            "4111 1111 1111 1112",
            "1234567812345678",
            "4006381333931",
            "1715942400123456789",
            "978-3-16-148410-0",
            "411111111111",
            "0.4111111111111111",
            "order 535337120073",
        ],
    ),
    "ssn": (["123-45-6789", "078 05 1120"], ["000-12-3456", "123-45-67890", "2024-05-17", "123456789"]),
    "phone": (
        [
            "+14155552671",
            "+44 20 7946 0958",
            "(415) 555-2671",
            "415.555.2671",
            "020 7946 0958",
            "07700 900123",
            "030 12345678",
            "089/1234567",
            "01 23 45 67 89",
            "06.12.34.56.78",
            "98765 43210",
            "+91-98765-43210",
            "138 1234 5678",
            "+86 138 1234 5678",
            "+81 90-1234-5678",
            "1-800-555-0199",
            "4155552671",
            "9119530005",
            "902-742-4270x965",
            "902-742-4270 ext. 965",
            "0456959493",
            "(00115) 300059",
            "(062)-0197218",
            "01314960855",
            "+(31) 63822-0278",
            "(+31) 6 3822 0278",
            "001-459-329-2244",
            "+46 (0)8 077 827 58",
            "612 345 678",
        ],
        [
            "2024-05-17",
            "10:30:00",
            "01.02.2024 10:30",
            "v1.2.3",
            "Room 1204, floor 3",
            "1,234,567.89",
            "5123 0456 7890 1234",
            "+1 555",
            "PO-4587911233",
            "订单号：1499333842",
            "89 329 735,88 €",
            "2021-07-23 00:21:35,630",
            "08/16/2025 4:46 PM",
            "1634576125780",
            "3.14159265",
            "0.9412345678",
            "ISBN 0-298-54639-6",
            "OID 1.3.6.1.4.1.55222.70",
            "ISSN 3593-1884",
            "EAN 03739098",
            "ART.-Nr. 888.190.95",
            "851.78.30.172",
            "Order 565-6876029-3549069",
            "1964x2052",
        ],
    ),
    "ipv6": (
        [
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            "2001:db8::8a2e:370:7334",
            "fe80::1ff:fe23:4567:890a",
            "::ffff:192.0.2.128",
        ],
        ["std::vector<int>", "10:30:00", "00:1A:2B:3C:4D:5E", "::1", "arn:aws:iam::123456789012:role/x", "a::b"],
    ),
    "ipv4": (
        ["203.0.113.42", "http://198.51.100.7/x", "192.168.1.20:8080"],
        ["999.1.1.1", "1.3.6.1.4.1.311", "127.0.0.1", "10.0.19045.3693", "192.168.1", "3.0.0.0"],
    ),
    "aws_access_key": (["AKIAIOSFODNN7EXAMPLE"], ["AKIA123", "XAKIAIOSFODNN7EXAMPLE"]),
    "jwt": (
        ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
        ["eyJhbGci"],
    ),
}


class TestDetectors:
    @pytest.mark.parametrize(
        ("name", "text"), [(name, text) for name, (positives, _) in CASES.items() for text in positives]
    )
    def test_true_positive(self, redactor: Redactor, name: str, text: str) -> None:
        """Each detector replaces its kind of value, alone or inside a sentence, and counts it."""
        token = next(d.token for d in redactor.rules.detectors if d.name == name)
        for wrapped in (text, f"see: {text} (ok)"):
            result = redactor.redact_text(wrapped)
            assert text not in result.value
            assert f"[{token}]" in result.value
            assert result.counts == {name: 1}

    @pytest.mark.parametrize(("name", "text"), [(name, text) for name, (_, misses) in CASES.items() for text in misses])
    def test_near_miss(self, redactor: Redactor, name: str, text: str) -> None:
        """Look-alikes without personal data pass through unchanged."""
        result = redactor.redact_text(text)
        assert result.value == text, result.counts
        assert result.total == 0

    def test_overlaps_merge(self, redactor: Redactor) -> None:
        """Overlapping matches become one replacement named by the leftmost match."""
        result = redactor.redact_text("x 4111111111111111@example.com y")
        assert result.value == "x [EMAIL] y"
        assert result.counts == {"email": 1}

    def test_adjacent_scripts(self, redactor: Redactor) -> None:
        """Values glued to CJK text are found (ASCII word boundaries, as in RE2)."""
        result = redactor.redact_text("卡号4111111111111111谢谢，电话138-1234-5678。")
        assert result.value == "卡号[CARD]谢谢，电话[PHONE]。"
