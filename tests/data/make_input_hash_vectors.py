"""Write tests/data/input_hash_vectors.json from the hand-written cases below.

The expected canonical texts are written by hand from RFC 8785 (its number and ordering
examples) and docs/input-hash.md; this script only adds each text's SHA-256, so the vectors do
not depend on otel-audit's own canonicalizer. Run: python tests/data/make_input_hash_vectors.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

# (name, input as JSON text, expected canonical JSON text)
JSON_CASES: list[tuple[str, str, str]] = [
    ("empty object", "{}", "{}"),
    ("empty array", "[]", "[]"),
    ("scalars", '[null, true, false, "x", 0, -1]', '[null,true,false,"x",0,-1]'),
    ("key order", '{"b": 1, "a": 2, "aa": 3, "A": 4, "_": 5}', '{"A":4,"_":5,"a":2,"aa":3,"b":1}'),
    ("nested order", '{"z": {"y": [3, {"b": 0, "a": 1}], "x": null}}', '{"z":{"x":null,"y":[3,{"a":1,"b":0}]}}'),
    (
        "RFC 8785 3.2.3 key order by UTF-16 code units",
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",'
        ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",'
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}',
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",'
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    ),
    (
        "RFC 8785 3.2.2.2 string escaping",
        '"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/"',
        '"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"',
    ),
    (
        "control characters",
        '"\\u0000\\u0001\\b\\t\\n\\f\\r\\u001f\\u007f"',
        '"\\u0000\\u0001\\b\\t\\n\\f\\r\\u001f\u007f"',
    ),
    ("non-ASCII kept as UTF-8", '{"text": "Grüße, 東京, Привет"}', '{"text":"Grüße, 東京, Привет"}'),
    ("integral floats print as integers", "[1.0, -2.0, 0.0, -0.0, 100.0]", "[1,-2,0,0,100]"),
    ("plain decimals", "[0.1, 1.5, -23.25, 123.456, 0.0001]", "[0.1,1.5,-23.25,123.456,0.0001]"),
    (
        "RFC 8785 numbers: tiny",
        "[5e-324, -5e-324, 1e-7, 0.000001, 9.999999999999997e-7]",
        "[5e-324,-5e-324,1e-7,0.000001,9.999999999999997e-7]",
    ),
    (
        "RFC 8785 numbers: large",
        "[1.7976931348623157e308, 9007199254740992.0, 2.9514790517935283e20, 1e21, 1e23]",
        "[1.7976931348623157e+308,9007199254740992,295147905179352830000,1e+21,1e+23]",
    ),
    (
        "RFC 8785 numbers: misc",
        "[333333333.3333332, 9.999999999999997e22, 1e16, 0.00001, 4.50, 2e-3]",
        "[333333333.3333332,9.999999999999997e+22,10000000000000000,0.00001,4.5,0.002]",
    ),
    (
        "tutorial fraud input",
        '{"transaction_amount": 1250.00, "merchant_category": "electronics"}',
        '{"merchant_category":"electronics","transaction_amount":1250}',
    ),
]

# Python values whose normalized JSON is fixed by docs/input-hash.md (checked in Python only).
PYTHON_CASES: list[tuple[str, str, str]] = [
    ("bytes", "b'hi'", '{"$bytes":"aGk="}'),
    (
        "NaN and infinities",
        "[float('nan'), float('inf'), float('-inf')]",
        '[{"$float":"NaN"},{"$float":"Infinity"},{"$float":"-Infinity"}]',
    ),
    ("big int", "2**60", '{"$bigint":"1152921504606846976"}'),
    (
        "aware datetime to UTC",
        "datetime.datetime(2026, 3, 15, 14, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))",
        '"2026-03-15T12:00:00Z"',
    ),
    ("naive datetime", "datetime.datetime(2026, 3, 15, 12, 0, 0, 123456)", '"2026-03-15T12:00:00.123456"'),
    ("date", "datetime.date(2026, 3, 15)", '"2026-03-15"'),
    ("Decimal keeps its digits", "decimal.Decimal('12.50')", '"12.50"'),
    (
        "non-finite Decimals (a signalling NaN too)",
        "[decimal.Decimal('sNaN'), decimal.Decimal('-Infinity')]",
        '[{"$float":"NaN"},{"$float":"-Infinity"}]',
    ),
    ("UUID", "uuid.UUID('12345678-1234-5678-1234-567812345678')", '"12345678-1234-5678-1234-567812345678"'),
    ("tuple and set", "{'t': (1, 2), 's': {3, 1, 2}}", '{"s":[1,2,3],"t":[1,2]}'),
    ("non-string keys", "{7: 'a', True: 'b', None: 'c', 2.5: 'd'}", '{"2.5":"d","7":"a","null":"c","true":"b"}'),
    ("int beyond 2**53 (JSON numbers are doubles elsewhere)", "2**53", '{"$bigint":"9007199254740992"}'),
    (
        "numpy array",
        "numpy.array([[1, 2], [3, 4]], dtype='int64')",
        '{"$ndarray":{"data":[[1,2],[3,4]],"dtype":"int64","shape":[2,2]}}',
    ),
    (
        "numpy float32 array",
        "numpy.array([0.5, 0.25], dtype='float32')",
        '{"$ndarray":{"data":[0.5,0.25],"dtype":"float32","shape":[2]}}',
    ),
    ("numpy scalar", "numpy.float64(2.5)", "2.5"),
]


def main() -> None:
    def entry(name: str, given: str, canonical: str, key: str) -> dict[str, str]:
        return {
            "name": name,
            key: given,
            "canonical": canonical,
            "sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        }

    vectors = {
        "description": "otel-audit input hash test vectors: sha256 = SHA-256(UTF-8(canonical)); see docs/input-hash.md",
        "json": [entry(n, i, c, "input") for n, i, c in JSON_CASES],
        "python": [entry(n, i, c, "python") for n, i, c in PYTHON_CASES],
    }
    for case in vectors["json"]:
        json.loads(case["input"])  # every JSON input must parse
    out = Path(__file__).with_name("input_hash_vectors.json")
    out.write_text(json.dumps(vectors, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(vectors['json'])} JSON + {len(vectors['python'])} Python vectors)")


if __name__ == "__main__":
    main()
