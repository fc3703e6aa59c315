"""Print the table of every environment variable (``otel_audit.envvars``), or write it into docs/configuration.md.

Run: python docs/envvars_table.py [--write]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from otel_audit.envvars import markdown_table

CONFIGURATION = Path(__file__).resolve().parent / "configuration.md"
BEGIN, END = "<!-- envvars-table:begin -->", "<!-- envvars-table:end -->"


def with_table(text: str) -> str:
    """*text* (docs/configuration.md) with the generated table between its markers."""
    block = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not block.search(text):
        raise SystemExit(f"{CONFIGURATION} has no {BEGIN} … {END} block")
    return block.sub(lambda _: f"{BEGIN}\n{markdown_table()}{END}", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the table in docs/configuration.md")
    if parser.parse_args().write:
        CONFIGURATION.write_text(with_table(CONFIGURATION.read_text()))
    else:
        print(markdown_table(), end="")


if __name__ == "__main__":
    main()
