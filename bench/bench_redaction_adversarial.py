"""Cost of the redactor on adversarial strings, in µs of CPU per KB: the bound in docs/redaction.md.

Each family of ``tests/redact/adversarial.py`` (long digit runs, many @, long near-e-mails,
nested encodings, IBAN and IP look-alikes, mixtures) is redacted as one string with the shipped
rule file at two sizes; the CPU time per KB is printed for each, and the worst. Linear cost shows
as the same µs/KB at both sizes.

Run: python bench/bench_redaction_adversarial.py [--kb 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "redact"))

from adversarial import FAMILIES  # noqa: E402 - after the path tweak

from otel_audit.redact import Redactor, load_rules  # noqa: E402


def cost(redactor: Redactor, text: str, rounds: int) -> float:
    """Best CPU seconds of *rounds* redactions of *text*."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        redactor.redact_text(text)
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=64, help="size of the larger string, in KB")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    redactor = Redactor(load_rules(ROOT / "collector-config" / "redaction.yaml"))
    sizes = (args.kb * 1024 // 4, args.kb * 1024)
    print(
        f"python {sys.version.split()[0]}, best of {args.rounds}, µs of CPU per KB at {sizes[0]} and {sizes[1]} bytes"
    )
    worst = 0.0
    for name, make in FAMILIES.items():
        rates = []
        for size in sizes:
            text = make(size)
            kilobytes = len(text.encode("utf-8")) / 1024
            rates.append(cost(redactor, text, args.rounds) * 1e6 / kilobytes)
        worst = max(worst, *rates)
        print(f"{name:<22} {rates[0]:>9.1f} {rates[1]:>9.1f} µs/KB")
    print(f"{'worst':<22} {worst:>19.1f} µs/KB")


if __name__ == "__main__":
    main()
