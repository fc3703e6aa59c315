"""otel-audit's collector processor, ``auditredaction``, through the real ``otelcol-audit`` binary.

The redaction corpus (``tests/data/redaction_corpus.jsonl``, 1,264 records) and its near misses
(708) are sent over OTLP/HTTP as a client that does not redact sends them, as log records and
spans (``collector_corpus.py`` says how they are shaped), to the collector running the shipped
``collector-config/file-sink.yaml``; the same SDK records go through otel-audit's in-process
processors (``RedactingLogRecordProcessor``, ``RedactingSpanExporter``). Asserted:

* every record comes out of the collector exactly once, as a log record and as a span;
* no planted value of a claimed kind comes out beyond the in-process residuals
  (``RESIDUAL_LEAKS`` / ``RESIDUAL_FRAGMENTS`` of ``tests/redaction_corpus.py``), and the values
  that do are the in-process ones; the near misses changed are exactly the in-process ones, into
  the same text;
* record by record, the collector's output is byte-identical to in-process output in exact-typed
  canonical JSON (body and attributes; span name, status, attributes, events), counts included,
  with the shipped (masking) rules and with pseudonymizing rules and a secret (given to the
  collector through ``OTEL_AUDIT_REDACTION_RULES`` / ``OTEL_AUDIT_REDACTION_SECRET``);
* the other direction: the collector's output passed through the Python engine again is unchanged
  (shipped rules), or changed exactly as in-process output is (pseudonymizing key rules hash their
  whole value again, token included, on every pass).

Run with ``-s`` for the measurement report. A missing binary fails: ``make collector`` builds it.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from collector_corpus import (
    Item,
    by_id,
    canonical,
    collect,
    contents,
    data,
    in_process,
    items,
    redact_again,
    send,
)
from collector_helpers import CONFIG_DIR, start_collector, stop_collector
from redaction_corpus import (
    MAX_FALSE_POSITIVE_RATE,
    RESIDUAL_FRAGMENTS,
    RESIDUAL_LEAKS,
    Measurement,
    load_corpus,
    load_near_misses,
    measure,
    over_residual,
)
from redaction_helpers import RULES_PATH

from otel_audit.redact import Redactor, collector, load_rules

pytestmark = pytest.mark.slow  # the corpus through two collectors and in-process twice: about 20 s

PSEUDONYM_SECRET = "collector-parity-secret-of-32-bytes"


@dataclass
class Run:
    """What the collector wrote for the records, and what in-process redaction made of them."""

    logs: list[dict[str, Any]]
    spans: list[dict[str, Any]]
    expected_logs: dict[str, dict[str, Any]]
    expected_spans: dict[str, dict[str, Any]]
    collector_log: str
    redactor: Redactor


@pytest.fixture(scope="module")
def corpus_records() -> list[dict[str, Any]]:
    return load_corpus()


@pytest.fixture(scope="module")
def misses() -> list[dict[str, Any]]:
    return load_near_misses()


@pytest.fixture(scope="module")
def records(corpus_records: list[dict[str, Any]], misses: list[dict[str, Any]]) -> list[Item]:
    return items(corpus_records, misses)


def through_collector(tmp: Path, records: list[Item], redactor: Redactor, env: dict[str, str] | None = None) -> Run:
    """Send *records* through the shipped file-sink config; redact them in-process with *redactor*."""
    running = start_collector(tmp, CONFIG_DIR / "file-sink.yaml", env)
    try:
        send(running.http_endpoint, records)
        logs, spans = collect(running, len(records))
    finally:
        stop_collector(running)
    expected_logs, expected_spans = in_process(records, redactor)
    return Run(logs, spans, expected_logs, expected_spans, running.log.read_text(errors="replace"), redactor)


@pytest.fixture(scope="module")
def masked(tmp_path_factory: pytest.TempPathFactory, records: list[Item]) -> Iterator[Run]:
    """The shipped rule file (it only masks), no secret on either side."""
    yield through_collector(tmp_path_factory.mktemp("masked"), records, Redactor(load_rules(RULES_PATH)))


@pytest.fixture(scope="module")
def pseudonymized(tmp_path_factory: pytest.TempPathFactory, records: list[Item]) -> Iterator[Run]:
    """Every detector and the national_id / phone_field key rules pseudonymize, with a secret."""
    tmp = tmp_path_factory.mktemp("pseudonymized")
    text = RULES_PATH.read_text(encoding="utf-8")
    text = text.replace("defaults:\n  action: mask", "defaults:\n  action: pseudonymize", 1)
    for rule in ("national_id", "phone_field"):
        head, _, tail = text.partition(f"  - name: {rule}\n")
        tail = tail.replace("    action: mask\n", "    action: pseudonymize\n", 1)
        text = f"{head}  - name: {rule}\n{tail}"
    rules_file = tmp / "pseudonymizing.yaml"
    rules_file.write_text(text, encoding="utf-8")
    rules = load_rules(rules_file)
    assert rules.needs_secret
    env = {collector.ENV_REDACTION_RULES: str(rules_file), collector.ENV_REDACTION_SECRET: PSEUDONYM_SECRET}
    yield through_collector(tmp, records, Redactor(rules, secret=PSEUDONYM_SECRET), env)


@pytest.fixture(scope="module")
def measured(
    masked: Run, corpus_records: list[dict[str, Any]], misses: list[dict[str, Any]]
) -> tuple[Measurement, Measurement]:
    """(collector, in-process) measurements of the corpus, as the store tests measure a store."""
    there = measure(corpus_records, misses, contents(by_id(masked.logs), by_id(masked.spans)))
    here = measure(corpus_records, misses, contents(masked.expected_logs, masked.expected_spans))
    print("\n" + there.report("collector: otelcol-audit, file-sink.yaml (auditredaction), logs and spans over OTLP"))
    return there, here


def _differences(run: Run, kind: str, limit: int = 5) -> tuple[int, str]:
    """(records whose canonical JSON differs, a unified diff of the first *limit* of them)."""
    got = by_id(run.logs if kind == "logs" else run.spans)
    want = run.expected_logs if kind == "logs" else run.expected_spans
    differing = [record_id for record_id in want if canonical(got.get(record_id, {})) != canonical(want[record_id])]
    shown = []
    for record_id in differing[:limit]:
        diff = difflib.unified_diff(
            [canonical(want[record_id])], [canonical(got.get(record_id, {}))], "in-process", "collector", lineterm=""
        )
        shown.append(f"{record_id}:\n" + "\n".join(diff))
    return len(differing), "\n\n".join(shown)


class TestCorpusThroughCollector:
    def test_every_record_comes_out_once(self, masked: Run, records: list[Item]) -> None:
        """Each record is written exactly once as a log record and once as a span."""
        sent = Counter(item.id for item in records)
        for kind, out in (("logs", masked.logs), ("spans", masked.spans)):
            ids = Counter(record["attributes"].get("audit.request.id") for record in out)
            assert ids == sent, (kind, len(out), len(records))

    def test_no_planted_value_beyond_the_in_process_residuals(self, measured: tuple[Measurement, Measurement]) -> None:
        """Planted values out of the collector: within the residuals, and exactly the in-process ones."""
        there, here = measured
        assert over_residual(there.covered(there.leaks), RESIDUAL_LEAKS) == {}, there.report("collector")
        assert over_residual(there.covered(there.fragments), RESIDUAL_FRAGMENTS) == {}, there.report("collector")

        def found(measurement: Measurement) -> set[tuple[str, str, str]]:
            return {(leak.record, leak.kind, leak.value) for leak in measurement.leaks + measurement.fragments}

        assert found(there) == found(here)

    def test_false_positives_equal_in_process(self, measured: tuple[Measurement, Measurement]) -> None:
        """The near misses the collector changes are the in-process ones, changed into the same text."""
        there, here = measured
        assert {m["id"]: m["stored"] for m in there.touched} == {m["id"]: m["stored"] for m in here.touched}
        assert there.false_positive_rate <= MAX_FALSE_POSITIVE_RATE
        rate = there.false_positive_rate
        print(f"\ncollector false positives: {len(there.touched)} of {len(there.misses)} ({rate:.2%})")

    def test_collector_log_quotes_no_planted_value(self, masked: Run, corpus_records: list[dict[str, Any]]) -> None:
        """The collector's own log (stdout and stderr) holds none of the planted values."""
        quoted = [p["value"] for r in corpus_records for p in r["planted"] if p["value"] in masked.collector_log]
        assert quoted == []


class TestRecordParity:
    @pytest.mark.parametrize("kind", ["logs", "spans"])
    def test_masked_byte_identical(self, masked: Run, kind: str) -> None:
        """Shipped rules: every record's canonical JSON equals the in-process one, byte for byte."""
        count, shown = _differences(masked, kind)
        assert count == 0, f"{count} {kind} differ from in-process; first ones:\n{shown}"

    @pytest.mark.parametrize("kind", ["logs", "spans"])
    def test_pseudonymized_byte_identical(self, pseudonymized: Run, kind: str) -> None:
        """Pseudonymizing rules and a secret: the same pseudonyms as in-process, byte for byte."""
        count, shown = _differences(pseudonymized, kind)
        assert count == 0, f"{count} {kind} differ from in-process; first ones:\n{shown}"
        text = "".join(canonical(record) for record in (pseudonymized.logs if kind == "logs" else pseudonymized.spans))
        for label in ("EMAIL", "PHONE", "CARD", "IBAN"):
            assert f"[{label}:" in text, label

    def test_collector_output_is_a_fixed_point(self, masked: Run) -> None:
        """The collector's output (shipped rules) through the Python engine again: the data is unchanged."""
        logs, spans = by_id(masked.logs), by_id(masked.spans)
        changed = []
        for record_id in logs.keys() | spans.keys():
            log, span = logs.get(record_id), spans.get(record_id)
            again_log, again_span = redact_again(masked.redactor, log, span)
            if log is not None and canonical(data(again_log)) != canonical(data(log)):
                changed.append(("log", record_id))
            if span is not None and canonical(data(again_span)) != canonical(data(span)):
                changed.append(("span", record_id))
        assert changed == []

    def test_pseudonymized_output_redacted_again_as_in_process(self, pseudonymized: Run) -> None:
        """Pseudonymizing rules: the collector's output through the Python engine again gives what
        in-process output gives. (Not unchanged: a pseudonymizing key rule hashes its whole value
        again, token included, in-process as well; detector pseudonyms are kept.)"""
        logs, spans = by_id(pseudonymized.logs), by_id(pseudonymized.spans)
        differing = []
        for record_id, log in logs.items():
            there = redact_again(pseudonymized.redactor, log, spans.get(record_id))
            here = redact_again(
                pseudonymized.redactor,
                pseudonymized.expected_logs[record_id],
                pseudonymized.expected_spans.get(record_id),
            )
            if [canonical(data(r)) for r in there] != [canonical(data(r)) for r in here]:
                differing.append(record_id)
        assert differing == []
