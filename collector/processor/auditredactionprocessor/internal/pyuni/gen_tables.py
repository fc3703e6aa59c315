"""Generate tables_gen.go: Python's own Unicode behaviour, for the Go port of otel_audit.redact.

The Python redactor relies on CPython's unicodedata (NFKC), str.casefold/lower/upper/isdigit/
isalnum/isspace and on ``re``'s Unicode classes (\\w, \\d, \\s, IGNORECASE). Go's unicode and
golang.org/x/text tables are of another Unicode version (CPython 3.11 has Unicode 14.0.0, x/text
15.0.0+), so instead of approximating, this script writes down what *this* Python does, for
every code point, and the Go port uses only these tables. Run it with the project's Python:

    .venv/bin/python collector/processor/auditredactionprocessor/internal/pyuni/gen_tables.py

and commit tables_gen.go. The parity test (tests/redact/test_go_parity.py) fails when the Python
it runs has another unicodedata.unidata_version than the tables.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

try:
    from re import _compiler as K  # noqa: N812
    from re import _constants as C  # noqa: N812
    from re import _parser as P  # noqa: N812
except ImportError:  # Python < 3.11
    import sre_compile as K  # type: ignore[no-redef]  # noqa: N812
    import sre_constants as C  # type: ignore[no-redef]  # noqa: N812
    import sre_parse as P  # type: ignore[no-redef]  # noqa: N812

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT))

from otel_audit.redact.labels import CATEGORY_PATTERN  # noqa: E402
from otel_audit.redact.phones import _CUE  # noqa: E402

OUT = Path(__file__).with_name("tables_gen.go")
MAX = 0x110000
CHARS = [chr(cp) for cp in range(MAX) if not 0xD800 <= cp <= 0xDFFF]
HANGUL_S, HANGUL_COUNT = 0xAC00, 11172


def ranges(predicate) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for char in CHARS:
        if predicate(char):
            cp = ord(char)
            if out and out[-1][1] == cp - 1:
                out[-1] = (out[-1][0], cp)
            else:
                out.append((cp, cp))
    return out


def go_string(text: str) -> str:
    def one(c: str) -> str:
        if c in '"\\':
            return "\\" + c
        return c if 0x20 <= ord(c) < 0x7F else f"\\U{ord(c):08x}"

    return '"' + "".join(one(c) for c in text) + '"'


def go_ranges(name: str, items: list[tuple[int, int]], doc: str) -> str:
    body = ", ".join(f"{{0x{a:x}, 0x{b:x}}}" for a, b in items)
    return f"// {name}: {doc}\nvar {name} = []rng{{{body}}}\n"


def go_map(name: str, mapping: dict[int, str], doc: str) -> str:
    body = ", ".join(f"0x{cp:x}: {go_string(value)}" for cp, value in sorted(mapping.items()))
    return f"// {name}: {doc}\nvar {name} = map[rune]string{{{body}}}\n"


# -- the character sets of re's Unicode classes and of str predicates -----------------------


def regex_set(node_list, flags: int) -> list[tuple[int, int]]:
    """Code points that one parsed atom matches under *flags* (brute force, as CPython decides)."""
    state = P.State()
    state.flags = flags
    sub = P.SubPattern(state, list(node_list))
    compiled = K.compile(sub, flags)
    if node_list[0][0] in (C.LITERAL, C.NOT_LITERAL) and node_list[0][0] == C.LITERAL:
        # A literal can only match cased characters besides itself: test those only.
        literal = chr(node_list[0][1])
        candidates = [*CASED_CANDIDATES, literal]
        hits = sorted({ord(c) for c in candidates if compiled.fullmatch(c)})
        out: list[tuple[int, int]] = []
        for cp in hits:
            if out and out[-1][1] == cp - 1:
                out[-1] = (out[-1][0], cp)
            else:
                out.append((cp, cp))
        return out
    return ranges(lambda c: compiled.fullmatch(c) is not None)


def re2_class(items: list[tuple[int, int]]) -> str:
    if not items:
        return "[^\\x00-\\x{10FFFF}]"
    parts = []
    for a, b in items:
        parts.append(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}")
    return "[" + "".join(parts) + "]"


def to_re2(parsed, flags: int) -> str:
    """An RE2 pattern equivalent to the parsed Python pattern, every class spelled out."""
    out = []
    for op, av in parsed:
        if op in (C.LITERAL, C.NOT_LITERAL, C.IN, C.ANY):
            out.append(re2_class(regex_set([(op, av)], flags)))
        elif op is C.BRANCH:
            out.append("(?:" + "|".join(to_re2(alt, flags) for alt in av[1]) + ")")
        elif op is C.SUBPATTERN:
            _group, add, remove, sub = av
            out.append("(?:" + to_re2(sub, (flags | add) & ~remove) + ")")
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            low, high, sub = av
            count = f"{{{low},}}" if high is C.MAXREPEAT else f"{{{low},{high}}}"
            out.append("(?:" + to_re2(sub, flags) + ")" + count + ("?" if op is C.MIN_REPEAT else ""))
        elif op is C.AT:
            table = {C.AT_BEGINNING: "^", C.AT_BEGINNING_STRING: "\\A", C.AT_END_STRING: "\\z"}
            if av not in table:
                raise SystemExit(f"unsupported anchor {av}")
            out.append(table[av])
        else:
            raise SystemExit(f"unsupported regex node {op}")
    return "".join(out)


CASED_CANDIDATES = [c for c in CHARS if c.lower() != c or c.upper() != c or c.casefold() != c or c.title() != c]
# The few characters re.IGNORECASE treats as equal without a case mapping between them.
CASED_CANDIDATES += [
    chr(cp)
    for cp in (
        0x131,
        0x17F,
        0xB5,
        0x345,
        0x1FBE,
        0x3C2,
        0x3D0,
        0x3D1,
        0x3D5,
        0x3D6,
        0x3F0,
        0x3F1,
        0x3F5,
        0x1E9B,
        0xFB05,
        0xFB06,
        0x390,
        0x1FD3,
        0x3B0,
        0x1FE3,
        0x1C80,
        0x1C81,
        0x1C82,
        0x1C83,
        0x1C84,
        0x1C85,
        0x1C86,
        0x1C87,
        0x1C88,
        0x1E9E,
        0x212A,
        0x212B,
        0x2126,
    )
]


def cue_pattern() -> str:
    return to_re2(P.parse(_CUE.pattern, _CUE.flags), _CUE.flags)


_CUE_HEAD = r"(?:^|[^\w])"


def cue_tail_pattern() -> str:
    r"""_CUE without its leading ``(?:^|[^\w])``, anchored at both ends: the Go port runs it
    at each phone word found in an ASCII window instead of searching the window."""
    assert _CUE.pattern.startswith(_CUE_HEAD), _CUE.pattern[:20]
    tail = _CUE.pattern[len(_CUE_HEAD) :]
    return to_re2(P.parse(tail, _CUE.flags), _CUE.flags)


def cue_words() -> list[str]:
    """The ASCII phone words of _CUE, none containing another: a window of ASCII text that holds
    none of them (in any case) cannot match, so the Go port skips the regex for it."""
    words = re.findall(r"\(\?:([^()]+)\)", _CUE.pattern)[1].split("|")
    ascii_words = sorted({word.lower() for word in words if word.isascii()})
    assert ascii_words and all(word.isalpha() for word in ascii_words), ascii_words
    return [word for word in ascii_words if not any(other != word and other in word for other in ascii_words)]


def category_pattern() -> str:
    compiled = re.compile(CATEGORY_PATTERN)
    return to_re2(P.parse(compiled.pattern, compiled.flags), compiled.flags)


# -- NFKC -------------------------------------------------------------------------------------


def nfkd_table() -> dict[int, str]:
    out = {}
    for char in CHARS:
        cp = ord(char)
        if HANGUL_S <= cp < HANGUL_S + HANGUL_COUNT:
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        if decomposed != char:
            out[cp] = decomposed
    return out


def compositions() -> dict[int, str]:
    out = {}
    for char in CHARS:
        raw = unicodedata.decomposition(char)
        if not raw or raw.startswith("<"):
            continue
        parts = [int(part, 16) for part in raw.split()]
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == char:
            out[ord(char)] = chr(parts[0]) + chr(parts[1])
    return out


def main() -> None:
    word = ranges(lambda c: c.isalnum() or c == "_")
    checks = {"\\w": word, "\\d": ranges(str.isdecimal), "\\s": ranges(str.isspace)}
    for cls, expected in checks.items():
        regex = re.compile(cls)
        assert ranges(lambda c, r=regex: r.fullmatch(c) is not None) == expected, cls
    sigma_cased = ranges(lambda c: (c + "\u03a3").lower()[-1] == "\u03c2")
    sigma_ignorable = ranges(
        lambda c: ("A" + c + "\u03a3").lower()[-1] == "\u03c2" and (c + "\u03a3").lower()[-1] != "\u03c2"
    )
    pieces = [
        "// Code generated by gen_tables.py from CPython's unicodedata and re. DO NOT EDIT.\n",
        "package pyuni\n",
        "// UnicodeVersion is unicodedata.unidata_version of the Python that generated these tables.\n"
        f'const UnicodeVersion = "{unicodedata.unidata_version}"\n',
        "// PythonVersion is the Python that generated these tables.\n"
        f"const PythonVersion = {go_string(sys.version.split()[0])}\n",
        "// CuePattern is otel_audit.redact.phones._CUE in RE2 syntax, every class spelled out.\n"
        f"const CuePattern = `{cue_pattern()}`\n",
        "// CueTailPattern is CuePattern without its leading (?:^|[^\\w]) group.\n"
        f"const CueTailPattern = `{cue_tail_pattern()}`\n",
        "// CueWords are the ASCII phone words of CuePattern, none containing another.\n"
        f"var CueWords = []string{{{', '.join(go_string(word) for word in cue_words())}}}\n",
        "// CategoryPattern is otel_audit.redact.labels.CATEGORY_PATTERN in RE2 syntax.\n"
        f"const CategoryPattern = `{category_pattern()}`\n",
        go_ranges("alnumRanges", ranges(str.isalnum), "str.isalnum"),
        go_ranges("digitRanges", ranges(str.isdigit), "str.isdigit"),
        go_ranges("spaceRanges", ranges(str.isspace), "str.isspace (str.strip, re's \\s)"),
        go_ranges("sigmaCasedRanges", sigma_cased, "cased and not case-ignorable (str.lower's final sigma rule)"),
        go_ranges("sigmaIgnorableRanges", sigma_ignorable, "case-ignorable (str.lower's final sigma rule)"),
        go_map(
            "lowerMap",
            {ord(c): c.lower() for c in CHARS if c.lower() != c and c != "\u03a3"},
            "str.lower (U+03A3 by rule)",
        ),
        go_map("upperMap", {ord(c): c.upper() for c in CHARS if c.upper() != c}, "str.upper"),
        go_map("casefoldMap", {ord(c): c.casefold() for c in CHARS if c.casefold() != c}, "str.casefold"),
        go_map(
            "nfkcCharMap",
            {ord(c): unicodedata.normalize("NFKC", c) for c in CHARS if unicodedata.normalize("NFKC", c) != c},
            "NFKC of each character alone",
        ),
        go_map("nfkdMap", nfkd_table(), "full compatibility decomposition (Hangul syllables by algorithm)"),
        go_map(
            "compositionMap",
            compositions(),
            "primary composites: composite -> its two-character canonical decomposition",
        ),
    ]
    ccc = {ord(c): unicodedata.combining(c) for c in CHARS if unicodedata.combining(c)}
    body = ", ".join(f"0x{cp:x}: {value}" for cp, value in sorted(ccc.items()))
    pieces.append(f"// cccMap: canonical combining class (non-zero only)\nvar cccMap = map[rune]uint8{{{body}}}\n")
    OUT.write_text("\n".join(pieces), encoding="utf-8")
    print(f"wrote {OUT} (Unicode {unicodedata.unidata_version})")


if __name__ == "__main__":
    main()
