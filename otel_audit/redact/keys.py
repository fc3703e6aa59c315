"""Key normalisation: the form of a map key that ``key_rules`` are matched against.

``passwоrd`` with a Cyrillic ``о``, ``ｐａｓｓｗｏｒｄ`` in full-width letters, ``pass\\u200bword``
with a zero-width space and ``"password "`` with a trailing space are all a password field to a
reader, so a key rule must see them as ``password``. Before the rules run, each key goes through
the steps named in the rule file's ``key_normalization`` list, in this order (the default):

``nfkc``
    Unicode NFKC (full-width and other compatibility forms become their plain letters).
``zero_width``
    Characters in :data:`ZERO_WIDTH` are removed (zero-width spaces and joiners, word joiner,
    BOM, soft hyphen, Mongolian vowel separator, invisible operators).
``casefold``
    Unicode case folding (``str.casefold``; Go: ``golang.org/x/text/cases.Fold``).
``confusables``
    Each character in :data:`CONFUSABLES` (Cyrillic, Greek and other look-alikes of Latin
    letters, in their case-folded form) becomes the Latin letter it imitates: a small, fixed
    subset of Unicode's confusables (UTS #39) covering the letters of key names.
``strip``
    Leading and trailing white space (Unicode ``White_Space``) is removed.

The result only decides which rule applies; the key itself is kept (and scanned by the
detectors) as it was written. Allow-listed attribute names are compared exactly, never
normalised, so a look-alike of an allow-listed name is not allowed.

Usage::

    normalize = key_normalizer(("nfkc", "zero_width", "casefold", "confusables", "strip"))
    normalize("ＰＡＳＳ\\u200bWОRD ")      # 'password'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

__all__ = [
    "CONFUSABLES",
    "DEFAULT_KEY_NORMALIZATION",
    "KEY_NORMALIZERS",
    "ZERO_WIDTH",
    "key_normalizer",
]

ZERO_WIDTH: Final = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u3164\ufeff\uffa0"
)
"""Invisible characters removed by ``zero_width``: zero-width spaces, joiners and marks, soft
hyphen, bidi controls, invisible operators, Hangul fillers and the byte-order mark."""

CONFUSABLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        # Cyrillic (lower case: keys are case-folded first)
        "а": "a", "в": "b", "ь": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "н": "h",
        "і": "i", "ї": "i", "ӏ": "l", "ј": "j", "к": "k", "м": "m", "п": "n", "о": "o", "р": "p",
        "ԛ": "q", "г": "r", "ѕ": "s", "т": "t", "у": "y", "ԝ": "w", "х": "x", "ү": "y", "з": "3",
        # Greek
        "α": "a", "β": "b", "ϲ": "c", "ε": "e", "η": "n", "ι": "i", "ί": "i", "κ": "k", "ν": "v",
        "ο": "o", "ό": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ϳ": "j", "ѵ": "v",
        # Latin look-alikes outside ASCII (after NFKC and case folding)
        "ı": "i", "ɩ": "i", "ȷ": "j", "ɡ": "g", "ɑ": "a", "ɛ": "e", "ɪ": "i", "ʟ": "l", "ᴏ": "o",
        "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ᴢ": "z", "ʏ": "y",
        "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ᴊ": "j", "ᴋ": "k", "ᴍ": "m",
        "ɴ": "n", "ᴀ": "a", "ʙ": "b",
        # Armenian and Cherokee letters that pass for Latin ones
        "օ": "o", "ս": "u", "ց": "g", "հ": "h", "ո": "n", "ա": "w",
    }
)  # fmt: skip
"""Look-alike character → the Latin letter (or digit) it imitates, applied by ``confusables``."""

_CONFUSABLE_TABLE: Final = str.maketrans(dict(CONFUSABLES))
_ZERO_WIDTH_TABLE: Final = str.maketrans(dict.fromkeys(ZERO_WIDTH))


def _nfkc(key: str) -> str:
    return key if key.isascii() else unicodedata.normalize("NFKC", key)


def _zero_width(key: str) -> str:
    return key if key.isascii() else key.translate(_ZERO_WIDTH_TABLE)


def _confusables(key: str) -> str:
    return key if key.isascii() else key.translate(_CONFUSABLE_TABLE)


KEY_NORMALIZERS: Final[Mapping[str, Callable[[str], str]]] = MappingProxyType(
    {
        "nfkc": _nfkc,
        "zero_width": _zero_width,
        "casefold": str.casefold,
        "confusables": _confusables,
        "strip": str.strip,
    }
)
"""Key normalisation steps by the name a rule file uses in ``key_normalization``."""

DEFAULT_KEY_NORMALIZATION: Final = ("nfkc", "zero_width", "casefold", "confusables", "strip")
"""The steps applied when the rule file names none."""


def key_normalizer(steps: Sequence[str]) -> Callable[[str], str]:
    """Return one function applying the named *steps* in order.

    Raises:
        KeyError: a step is not one of :data:`KEY_NORMALIZERS`.
    """
    functions = tuple(KEY_NORMALIZERS[step] for step in steps)

    def normalize(key: str) -> str:
        for function in functions:
            key = function(key)
        return key

    return normalize
