"""Adversarial inputs for the redactor: strings built to make detectors work hard.

Each family is a function of a size in bytes that returns a string of about that many UTF-8
bytes. Used by ``test_redaction_budget.py`` (cost grows linearly) and by
``bench/bench_redaction_adversarial.py`` (the µs-per-KB bound quoted in ``docs/redaction.md``).
"""

from __future__ import annotations

import random
from collections.abc import Callable


def _repeat(unit: str) -> Callable[[int], str]:
    def make(size: int) -> str:
        return unit * max(1, size // len(unit.encode("utf-8")))

    return make


def _random(alphabet: str, seed: int) -> Callable[[int], str]:
    def make(size: int) -> str:
        rng = random.Random(seed)
        text = "".join(rng.choice(alphabet) for _ in range(size))
        return text.encode("utf-8")[:size].decode("utf-8", "ignore")

    return make


FAMILIES: dict[str, Callable[[int], str]] = {
    # digit runs: cards, phones, IBAN tails
    "digits": _repeat("1"),
    "random digits": _random("0123456789", 1),
    "spaced digits": _repeat("1 "),
    "two-digit groups": _repeat("12 "),
    "zero-led groups": _repeat("01 "),
    "NANP-like groups": _repeat("212 555 "),
    "dashed groups": _repeat("12-"),
    "dotted groups": _repeat("12."),
    "card groups": _repeat("4111 "),
    "international": _repeat("+12345678 "),
    "parentheses": _repeat("(1)"),
    "plus parentheses": _repeat("+(1) "),
    "extensions": _repeat("0171 5942400x1 "),
    "dates": _repeat("2024-05-17 "),
    # e-mails
    "at signs": _repeat("@"),
    "a@": _repeat("a@"),
    "a@b.": _repeat("a@b."),
    "long local part": lambda size: "a" * (size - 1) + "@",
    "dotted local part": lambda size: "a." * (size // 2) + "@",
    "long domain": lambda size: "x@" + "a." * (size // 2),
    # encodings, nested
    "percent 25": _repeat("%25"),
    "percent 40": _repeat("a%40"),
    "double percent": _repeat("a%2540b."),
    "entities": _repeat("&amp;"),
    "numeric entities": _repeat("a&#64;"),
    "nested entities": _repeat("a&amp;#64;b."),
    "json escapes": _repeat("a\\u0040"),
    "full-width": _repeat("ａ＠"),
    # IBANs, IPs
    "IBAN starts": _repeat("DE89"),
    "IBAN words": _repeat("AB12 "),
    "colons": _repeat(":"),
    "1:": _repeat("1:"),
    "IPv6-like": _repeat("1::1:"),
    "IPv4-like": _repeat("1.1."),
    # mixtures
    "phone characters": _random("0123456789 .-+()@:%&#;x", 2),
    "e-mail characters": _random("0123456789aA@.-_", 3),
    "CJK": _repeat("电话号码是"),
    # not adversarial: ordinary text with personal data in it, for comparison
    "prose with PII": _repeat(
        "Customer Ana (ana@example.org, +44 20 7946 0958) asked on 2024-05-17 about order ORD-2024-000123 "
        "and card 4111 1111 1111 1111; the model answered in 1.77s. "
    ),
}
"""Family name → ``make(size_in_bytes) -> str``."""
