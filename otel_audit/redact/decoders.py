"""Decoded views of a string: what a detector sees after undoing common encodings.

An e-mail address written ``ana%40example.org``, ``ana&#64;example.org``, ``ana\\u0040example.org``
or ``ana＠example.org`` is still an e-mail address. A detector with ``decode: [...]`` in the rule
file runs its pattern on a *decoded view* of each string and every match is mapped back to the
span of the **original** text that produced it, so the replacement removes the encoded text
itself, not a decoded copy of it.

Decoders (named in the rule file, applied in the order listed; the whole list is one *round*):

``percent``
    A run of ``%HH`` escapes (two hex digits each, any case) is decoded as UTF-8, or as Latin-1
    when the bytes are not valid UTF-8. ``%`` not followed by two hex digits is kept.
``html``
    Numeric character references ``&#N;`` (1-7 decimal digits) and ``&#xH;`` (1-6 hex digits,
    ``x`` or ``X``), the ``;`` optional; a code point above U+10FFFF, a surrogate or U+0000
    becomes U+FFFD. Named references, ``;`` required, from :data:`HTML_ENTITIES` only (the
    characters of addresses and the usual delimiters): ``&commat;`` ``&period;`` ``&lowbar;``
    ``&hyphen;`` ``&dash;`` ``&plus;`` ``&percnt;`` ``&amp;`` ``&lt;`` ``&gt;`` ``&quot;``
    ``&apos;`` ``&nbsp;``.
``json``
    ``\\uXXXX`` escapes (four hex digits, any case); a high surrogate escape followed by a low
    one is one character; a lone surrogate becomes U+FFFD. Other backslashes are kept.
``nfkc``
    Unicode NFKC applied to each non-ASCII character on its own (so every output character
    maps back to one input character): full-width ``＠`` and ``ａ`` become ``@`` and ``a``,
    the small commercial at ``﹫`` becomes ``@``. Python's :mod:`unicodedata` decides (Unicode
    14.0 in Python 3.11, 15.0 in 3.12); the collector's Go processor carries tables generated
    from the same Python (``internal/pyuni``), never Go's own Unicode version.

A round is repeated while it changes the text, at most :data:`MAX_ROUNDS` times, so nested
encodings (``%2540`` → ``%40`` → ``@``, ``&amp;#64;`` → ``&#64;`` → ``@``) are undone too. Each
round is one linear pass per decoder (a regex scan plus work per escape found), so the cost of
a view is linear in the length of the string.

Usage::

    view = decoded_view("mail ana%40example.org", ("percent", "html", "json", "nfkc"))
    view.text                    # 'mail ana@example.org'
    view.origin(5, 20)           # (5, 22): the span of the original text
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

__all__ = [
    "DECODERS",
    "HTML_ENTITIES",
    "MAX_ROUNDS",
    "DecodedView",
    "decoded_view",
    "needs_decoding",
]

MAX_ROUNDS: Final = 3
"""Rounds of decoding at most (nested encodings up to three levels deep)."""

HTML_ENTITIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "commat": "@",
        "period": ".",
        "lowbar": "_",
        "hyphen": "-",
        "dash": "-",
        "plus": "+",
        "percnt": "%",
        "amp": "&",
        "lt": "<",
        "gt": ">",
        "quot": '"',
        "apos": "'",
        "nbsp": "\u00a0",
    }
)
"""Named character references the ``html`` decoder knows (``&name;``, case-sensitive)."""

_REPLACEMENT: Final = "\ufffd"
_MAX_CODE_POINT: Final = 0x10FFFF

# One escape (or run of escapes) per match; everything between matches is copied unchanged.
_PERCENT: Final = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_HTML: Final = re.compile(r"&(?:#([0-9]{1,7});?|#[xX]([0-9A-Fa-f]{1,6});?|([A-Za-z]{2,8});)")
_JSON: Final = re.compile(r"\\u([0-9A-Fa-f]{4})(?:\\u([0-9A-Fa-f]{4}))?")
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]+")

# Cheap pre-check: a string without any of these characters has nothing to decode.
_TRIGGERS: Final[Mapping[str, re.Pattern[str]]] = MappingProxyType(
    {
        "percent": re.compile(r"%[0-9A-Fa-f]{2}"),
        "html": re.compile(r"&[#A-Za-z]"),
        "json": re.compile(r"\\u[0-9A-Fa-f]{4}"),
        "nfkc": _NON_ASCII,
    }
)


def _code_point(value: int) -> str:
    if value == 0 or value > _MAX_CODE_POINT or 0xD800 <= value <= 0xDFFF:
        return _REPLACEMENT
    return chr(value)


def _percent(match: re.Match[str]) -> str:
    raw = bytes.fromhex(match.group().replace("%", ""))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _html(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if decimal is not None:
        return _code_point(int(decimal))
    if hexadecimal is not None:
        return _code_point(int(hexadecimal, 16))
    return HTML_ENTITIES.get(name)


def _json(match: re.Match[str]) -> str | None:
    first = int(match.group(1), 16)
    second = match.group(2)
    if second is not None:
        low = int(second, 16)
        if 0xD800 <= first <= 0xDBFF and 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00))
        return None  # decoded as two single escapes by _split_json
    return _REPLACEMENT if 0xD800 <= first <= 0xDFFF else chr(first)


_Replacer = Callable[[re.Match[str]], "str | None"]


class DecodedView:
    """A decoded string and the map from its characters back to the original's.

    The map is a list of segments ``(view_start, original_start, original_end, one_to_one)``:
    a one-to-one segment maps each view character to one original character; any other
    segment (an escape) maps all of its view characters to the whole escape.
    """

    __slots__ = ("_ends", "_segments", "_starts", "text")

    def __init__(self, text: str, segments: list[tuple[int, int, int, bool]]) -> None:
        self.text = text
        self._segments = segments
        self._starts = [segment[0] for segment in segments]
        self._ends = [
            segments[index + 1][0] if index + 1 < len(segments) else len(text) for index in range(len(segments))
        ]

    def _locate(self, index: int) -> tuple[int, int]:
        """The original span of the view character at *index*."""
        position = bisect.bisect_right(self._starts, index) - 1
        view_start, original_start, original_end, one_to_one = self._segments[position]
        if one_to_one:
            offset = original_start + index - view_start
            return offset, offset + 1
        return original_start, original_end

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that produced the view's ``[start, end)`` (``end > start``)."""
        return self._locate(start)[0], self._locate(end - 1)[1]

    def compose(self, inner: DecodedView) -> DecodedView:
        """A view of *inner*'s text mapped back through *self* (*inner* decodes ``self.text``)."""
        segments: list[tuple[int, int, int, bool]] = []
        for view_start, start, end, one_to_one in inner._segments:
            if not one_to_one:
                first, last = self.origin(start, end)
                segments.append((view_start, first, last, False))
                continue
            # A one-to-one stretch of our text: split it where our own segments change.
            position = start
            while position < end:
                outer = bisect.bisect_right(self._starts, position) - 1
                stop = min(self._ends[outer], end)
                outer_view, outer_start, outer_end, outer_one = self._segments[outer]
                here = view_start + position - start
                if outer_one:
                    original = outer_start + position - outer_view
                    segments.append((here, original, original + stop - position, True))
                else:
                    segments.append((here, outer_start, outer_end, False))
                position = stop
        return DecodedView(inner.text, _merge(segments))


def _merge(segments: list[tuple[int, int, int, bool]]) -> list[tuple[int, int, int, bool]]:
    """Drop empty segments; one-to-one segments that continue each other become one."""
    merged: list[tuple[int, int, int, bool]] = []
    for segment in segments:
        if merged and segment[3] and merged[-1][3]:
            view_start, original_start, _, _ = merged[-1]
            if segment[1] - original_start == segment[0] - view_start:
                merged[-1] = (view_start, original_start, segment[2], True)
                continue
        if merged and merged[-1][0] == segment[0]:
            merged[-1] = segment  # the earlier segment produced no view characters
            continue
        merged.append(segment)
    return merged


def _substitute(text: str, pattern: re.Pattern[str], replace: _Replacer) -> DecodedView | None:
    """Decode every match of *pattern* with *replace* (``None`` keeps the match as it is)."""
    pieces: list[str] = []
    segments: list[tuple[int, int, int, bool]] = []
    last = 0
    length = 0
    changed = False
    for match in pattern.finditer(text):
        decoded = replace(match)
        if decoded is None:
            if pattern is _JSON and match.group(2) is not None:
                decoded = _split_json(match)
            else:
                continue
        start, end = match.span()
        if start > last:
            segments.append((length, last, start, True))
            pieces.append(text[last:start])
            length += start - last
        segments.append((length, start, end, False))
        pieces.append(decoded)
        length += len(decoded)
        last = end
        changed = True
    if not changed:
        return None
    if last < len(text):
        segments.append((length, last, len(text), True))
        pieces.append(text[last:])
    return DecodedView("".join(pieces), _merge(segments))


def _split_json(match: re.Match[str]) -> str:
    """Two ``\\uXXXX`` escapes that are not a surrogate pair: each decoded on its own."""
    first, second = int(match.group(1), 16), int(match.group(2), 16)
    return "".join(_REPLACEMENT if 0xD800 <= value <= 0xDFFF else chr(value) for value in (first, second))


def _nfkc(text: str) -> DecodedView | None:
    if unicodedata.is_normalized("NFKC", text):
        return None
    pieces: list[str] = []
    segments: list[tuple[int, int, int, bool]] = []
    last = 0
    length = 0
    for run in _NON_ASCII.finditer(text):
        for index in range(run.start(), run.end()):
            char = text[index]
            normalized = unicodedata.normalize("NFKC", char)
            if normalized == char:
                continue
            if index > last:
                segments.append((length, last, index, True))
                pieces.append(text[last:index])
                length += index - last
            segments.append((length, index, index + 1, len(normalized) == 1))
            pieces.append(normalized)
            length += len(normalized)
            last = index + 1
    if not segments:
        return None
    if last < len(text):
        segments.append((length, last, len(text), True))
        pieces.append(text[last:])
    return DecodedView("".join(pieces), _merge(segments))


DECODERS: Final[Mapping[str, Callable[[str], DecodedView | None]]] = MappingProxyType(
    {
        "percent": lambda text: _substitute(text, _PERCENT, _percent),
        "html": lambda text: _substitute(text, _HTML, _html),
        "json": lambda text: _substitute(text, _JSON, _json),
        "nfkc": _nfkc,
    }
)
"""Decoders by the name a rule file uses in ``decode:``; each returns ``None`` when nothing changed."""


_ANY_ESCAPE: Final = re.compile(r"%[0-9A-Fa-f]{2}|&[#A-Za-z]|\\u[0-9A-Fa-f]{4}")


def _triggered(text: str, step: str) -> bool:
    if step == "nfkc":
        return not text.isascii() and not unicodedata.is_normalized("NFKC", text)
    return _TRIGGERS[step].search(text) is not None


def needs_decoding(text: str, steps: Sequence[str]) -> bool:
    """Whether any of the decoders *steps* could change *text* (a cheap pre-check)."""
    if len(steps) == len(DECODERS):  # all of them: one combined search
        return _ANY_ESCAPE.search(text) is not None or (
            not text.isascii() and not unicodedata.is_normalized("NFKC", text)
        )
    return any(_triggered(text, step) for step in steps)


def decoded_view(text: str, steps: Sequence[str], rounds: int = MAX_ROUNDS) -> DecodedView | None:
    """The view of *text* after the decoders *steps*, repeated up to *rounds* times; ``None`` if unchanged.

    Raises:
        KeyError: a step is not one of :data:`DECODERS`.
    """
    decoders = [(name, DECODERS[name]) for name in steps]
    view: DecodedView | None = None
    current = text
    for _ in range(rounds):
        changed = False
        for name, decode in decoders:
            if not _triggered(current, name):
                continue
            step = decode(current)
            if step is None:
                continue
            view = step if view is None else view.compose(step)
            current = step.text
            changed = True
        if not changed:
            break
    return view
