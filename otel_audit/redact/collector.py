"""Render the OpenTelemetry Collector configuration from the one redaction rule file.

Every profile but one runs otel-audit's own collector processor, ``auditredaction``
(``collector/processor/auditredactionprocessor``, built into ``otelcol-audit`` by
``make collector``): a Go port of :mod:`otel_audit.redact` that reads the same rule file at
start-up and gives byte-identical results (validators, decoders, key normalisation, budget,
pseudonyms and counts included). The rendered config only names the rule file::

    auditredaction:
      rules_file: ${env:OTEL_AUDIT_REDACTION_RULES:-<path>}
      secret: ${env:OTEL_AUDIT_REDACTION_SECRET:-}

``<path>`` is the *rules_file* argument: the shipped copies in ``collector-config/`` say
``collector-config/redaction.yaml`` (relative to the collector's working directory: run them
from the repository root); ``otel-audit collector-config`` writes the absolute path of the rule
file it rendered, so a user's config works from any directory. The environment variables are the
ones the in-process redactor reads.

Profiles: ``production`` (ClickHouse exporter, persistent sending queue), ``single-box``
(``otlp_http`` to ``otel-audit serve``), ``file-sink`` (OTLP/JSON lines), and ``contrib-only``:
the production topology for a stock contrib distribution, where the rules are rendered into
contrib processors instead, applied in this order to logs and traces:

1. ``transform/redact`` (OTTL), typed tokens where OTTL can reach:
   * ``audit.redaction.*`` attributes a client sent are deleted (only redaction writes them);
   * allow-listed attributes (exact names) are copied aside first and written back last, so
     nothing touches them;
   * ``drop`` key rules delete matching attribute keys and top-level body keys;
   * every detector pattern replaces its matches with ``[TOKEN]`` in attribute values and keys,
     string bodies, top-level values and keys of map bodies, span names, span status messages
     and span event attributes;
   * span links are removed: nothing in the collector can inspect their attributes.
2. ``redaction`` (contrib redaction processor), which walks nested map bodies and lists at any
   depth: the raw detector patterns as ``blocked_values``, the key rules as
   ``blocked_key_patterns`` (``drop`` becomes a mask there), ``redact_all_types`` so integers are
   scanned too, ``allow_all_keys: true`` (otherwise it deletes every map-body key not listed),
   and the allow-list as ``ignored_keys``. It masks with ``****``, not a typed token.
3. ``transform/finish``: a map body whose JSON text still matches a detector (personal data in a
   nested map *key*, which nothing renames in place) is flattened (``a.b.c`` keys) and its keys
   and values scanned again; a body that still matches after that is withheld (replaced by
   ``{"redaction_error": ...}``, ``audit.redaction.error = 1``), as in-process on failure.

What ``contrib-only`` cannot do like in-process (validators, decoders, key normalisation, the
record budget, pseudonyms, counts, token text) and what that costs on the corpus is in
``docs/redaction.md`` ("The contrib-only profile"): detectors with a validator render their
candidate pattern, which masks every candidate run (over-masking).

Usage::

    text = render_yaml(load_rules(), "production")    # or: otel-audit collector-config
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any, Final, Literal

import yaml

from otel_audit.redact.engine import OTEL_AUDIT_REDACTION_SECRET
from otel_audit.redact.rules import OTEL_AUDIT_REDACTION_RULES, RedactionRules, re2_patterns

__all__ = [
    "CONTRIB_FIGURES",
    "ENV_CLICKHOUSE_DATABASE",
    "ENV_CLICKHOUSE_ENDPOINT",
    "ENV_FILE_PATH",
    "ENV_HEALTH_ENDPOINT",
    "ENV_METRICS_PORT",
    "ENV_OTLP_GRPC_ENDPOINT",
    "ENV_OTLP_HTTP_ENDPOINT",
    "ENV_QUEUE_DIRECTORY",
    "ENV_REDACTION_RULES",
    "ENV_REDACTION_SECRET",
    "ENV_SERVE_ENDPOINT",
    "PROCESSOR",
    "PROFILES",
    "SHIPPED_RULES",
    "SINKS",
    "Profile",
    "Sink",
    "audit_redaction",
    "processors",
    "render_config",
    "render_yaml",
]

Profile = Literal["production", "single-box", "file-sink", "contrib-only"]
PROFILES: Final[tuple[Profile, ...]] = ("production", "single-box", "file-sink", "contrib-only")
Sink = Literal["clickhouse", "serve", "file"]
SINKS: Final[tuple[Sink, ...]] = ("clickhouse", "serve", "file")
_PROFILE_SINK: Final[dict[Profile, Sink]] = {
    "production": "clickhouse",
    "single-box": "serve",
    "file-sink": "file",
    "contrib-only": "clickhouse",
}

PROCESSOR: Final = "auditredaction"
"""Component type of otel-audit's collector processor (``collector/processor/auditredactionprocessor``)."""
SHIPPED_RULES: Final = "collector-config/redaction.yaml"
"""The rule file as the shipped configs name it: relative to the repository root."""
ENV_REDACTION_RULES: Final = OTEL_AUDIT_REDACTION_RULES
ENV_REDACTION_SECRET: Final = OTEL_AUDIT_REDACTION_SECRET

# Environment variables the shipped configs read (with defaults), so one file serves every host.
ENV_OTLP_GRPC_ENDPOINT: Final = "OTEL_AUDIT_COLLECTOR_OTLP_GRPC_ENDPOINT"
ENV_OTLP_HTTP_ENDPOINT: Final = "OTEL_AUDIT_COLLECTOR_OTLP_HTTP_ENDPOINT"
ENV_HEALTH_ENDPOINT: Final = "OTEL_AUDIT_COLLECTOR_HEALTH_ENDPOINT"
ENV_METRICS_PORT: Final = "OTEL_AUDIT_COLLECTOR_METRICS_PORT"
ENV_CLICKHOUSE_ENDPOINT: Final = "OTEL_AUDIT_CLICKHOUSE_ENDPOINT"
ENV_CLICKHOUSE_DATABASE: Final = "OTEL_AUDIT_CLICKHOUSE_DATABASE"
ENV_CLICKHOUSE_USERNAME: Final = "OTEL_AUDIT_CLICKHOUSE_USERNAME"
ENV_CLICKHOUSE_PASSWORD: Final = "OTEL_AUDIT_CLICKHOUSE_PASSWORD"
ENV_QUEUE_DIRECTORY: Final = "OTEL_AUDIT_COLLECTOR_QUEUE_DIR"
ENV_SERVE_ENDPOINT: Final = "OTEL_AUDIT_SERVE_ENDPOINT"
ENV_FILE_PATH: Final = "OTEL_AUDIT_COLLECTOR_FILE"

REDACTION_ERROR_BODY: Final = "redaction failed in the collector; the data was withheld"

_MASK_REST: Final = "****"  # the redaction processor's fixed mask


def _env(name: str, default: str) -> str:
    return f"${{env:{name}:-{default}}}"


def _dollars(text: str) -> str:
    """Escape ``$`` for the collector's config resolver (``$$`` is a literal ``$``)."""
    return text.replace("$", "$$")


def _ottl_string(text: str) -> str:
    """*text* as an OTTL string literal (backslashes and quotes escaped), ``$`` escaped for YAML."""
    return '"' + _dollars(text.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def _regex_list(values: Sequence[str]) -> list[str]:
    return [_dollars(value) for value in values]


_RESERVED_ATTRIBUTES: Final = "^audit\\.redaction\\."  # only redaction writes these: a client's are deleted


def _allow_list(rules: RedactionRules) -> list[str]:
    return sorted(rules.allow_keys)


def _value_detectors(rules: RedactionRules) -> list[tuple[str, str]]:
    """(pattern, token) of every enabled detector, rule-file order."""
    return [(p.pattern, f"[{p.token}]") for p in re2_patterns(rules) if p.kind == "detector"]


def _token_values(rules: RedactionRules) -> str:
    """Regex of a whole value that is exactly one of the rule file's tokens (``[NATIONAL_ID]``)."""
    tokens = sorted({p.token for p in re2_patterns(rules)})
    return "^\\[(?:" + "|".join(tokens) + ")\\]$"


def _union(rules: RedactionRules) -> str:
    return "|".join(f"(?:{pattern})" for pattern, _ in _value_detectors(rules))


def _attribute_statements(rules: RedactionRules, target: str) -> list[str]:
    """OTTL statements redacting the attribute map *target* (e.g. ``log.attributes``)."""
    exact = _allow_list(rules)
    context = target.split(".", maxsplit=1)[0]
    allowed = f'{context}.cache["otel_audit_allowed"]'
    keep_exact = "[" + ", ".join(_ottl_string(key) for key in exact) + "]"
    save = [
        f"delete_matching_keys({target}, {_ottl_string(_RESERVED_ATTRIBUTES)})",
        f"set({allowed}, {target})",
        f"keep_keys({allowed}, {keep_exact})",
    ]
    drops = [
        f"delete_matching_keys({target}, {_ottl_string(p.pattern)})"
        for p in re2_patterns(rules)
        if p.kind == "key" and p.action == "drop"
    ]
    scans = _key_mask_statements(rules, target, context)
    for pattern, token in _value_detectors(rules):
        scans.append(f'replace_all_patterns({target}, "value", {_ottl_string(pattern)}, {_ottl_string(token)})')
        scans.append(f'replace_all_patterns({target}, "key", {_ottl_string(pattern)}, {_ottl_string(token)})')
    restore = [f'merge_maps({target}, {allowed}, "upsert")']
    return save + drops + scans + restore


def _key_mask_statements(rules: RedactionRules, target: str, context: str, where: str = "") -> list[str]:
    """Typed tokens for ``mask``/``pseudonymize`` key rules on the top level of the map *target*.

    OTTL cannot set "the value of every key matching a regex", so the matching entries are copied
    aside, turned into strings, replaced whole by the token, and merged back.
    """
    statements = []
    whole = _ottl_string("^(?s:.*)$")
    for p in re2_patterns(rules):
        if p.kind != "key" or p.action not in ("mask", "pseudonymize"):
            continue
        aside = f'{context}.cache["otel_audit_key_{p.name}"]'
        statements += [
            f"set({aside}, {target}){where}",
            f"keep_matching_keys({aside}, {_ottl_string(p.pattern)}){where}",
            f"stringify_all({aside}){where}",
            f'replace_all_patterns({aside}, "value", {whole}, {_ottl_string(f"[{p.token}]")}){where}',
            f'merge_maps({target}, {aside}, "upsert"){where}',
        ]
    return statements


def _body_statements(rules: RedactionRules) -> list[str]:
    """OTTL statements redacting string bodies and (top level / flattened) map bodies."""
    # A bytes body is scanned as UTF-8 text, as in-process (OTTL has no IsBytes: "none of the others").
    others = " and ".join(
        f"not {check}(log.body)" for check in ("IsString", "IsMap", "IsList", "IsInt", "IsDouble", "IsBool")
    )
    statements = [f'set(log.body, Decode(log.body, "utf-8")) where log.body != nil and {others}']
    for pattern, token in _value_detectors(rules):
        statements.append(
            f"replace_pattern(log.body, {_ottl_string(pattern)}, {_ottl_string(token)}) where IsString(log.body)"
        )
    for p in re2_patterns(rules):
        if p.kind == "key" and p.action == "drop":
            statements.append(f"delete_matching_keys(log.body, {_ottl_string(p.pattern)}) where IsMap(log.body)")
    statements += _key_mask_statements(rules, "log.body", "log", " where IsMap(log.body)")
    for pattern, token in _value_detectors(rules):
        for mode in ("value", "key"):
            statements.append(
                f'replace_all_patterns(log.body, "{mode}", {_ottl_string(pattern)}, {_ottl_string(token)})'
                " where IsMap(log.body)"
            )
    return statements


def _span_statements(rules: RedactionRules) -> list[str]:
    statements = []
    for pattern, token in _value_detectors(rules):
        for target in ("span.name", "span.status.message"):
            statements.append(f"replace_pattern({target}, {_ottl_string(pattern)}, {_ottl_string(token)})")
    # No OTTL context reaches span links' attributes in v0.161 (and the redaction processor skips
    # links; String(span.links) is "{}"), so links cannot be inspected: they are removed (fail
    # closed). otel-audit itself creates no links.
    links = ["set(span.links, nil) where Len(span.links) > 0"]
    return statements + _attribute_statements(rules, "span.attributes") + links


def _any_match(rules: RedactionRules, text: str) -> str:
    """OTTL condition: some detector matches *text* (one IsMatch each: cheaper in Go than a union)."""
    return "(" + " or ".join(f"IsMatch({text}, {_ottl_string(p)})" for p, _ in _value_detectors(rules)) + ")"


def _finish_statements(rules: RedactionRules) -> list[str]:
    """After the redaction processor: nested keys, then withhold anything still matching."""
    text = 'log.cache["otel_audit_text"]'
    hit = 'log.cache["otel_audit_hit"]'
    flat = 'log.cache["otel_audit_flatten"]'
    left = 'log.cache["otel_audit_left"]'
    # The body's JSON text is built and scanned once; only a body that still matches is worked on.
    # Personal data left in the JSON text of a map body after the redaction processor masked
    # every value is in a nested map *key* (or under a body key the redaction processor ignores,
    # such as an allow-listed attribute name), which nothing renames in place: flatten the body
    # (keys become dotted paths, lists numbered) and scan its keys and values.
    statements = [
        f"set({text}, String(log.body))",
        f"set({hit}, true) where {_any_match(rules, text)}",
        f"set({flat}, true) where {hit} == true and IsMap(log.body)",
        f"flatten(log.body) where {flat} == true",
    ]
    for pattern, token in _value_detectors(rules):
        for mode in ("key", "value"):
            statements.append(
                f'replace_all_patterns(log.body, "{mode}", {_ottl_string(pattern)}, {_ottl_string(token)})'
                f" where {flat} == true"
            )
    # Fail closed: whatever still matches is withheld, as the in-process redactor does on failure.
    error = _ottl_string(REDACTION_ERROR_BODY)
    return [
        *statements,
        f"set({text}, String(log.body)) where {flat} == true",
        f"set({left}, true) where {hit} == true and {_any_match(rules, text)}",
        f'set(log.attributes["audit.redaction.error"], 1) where {left} == true',
        f'set(log.body, {{"redaction_error": {error}}}) where {left} == true',
    ]


def processors(rules: RedactionRules) -> dict[str, Any]:
    """The ``processors`` section of ``contrib-only`` (memory_limiter, transform/redact, redaction,
    transform/finish)."""
    exact = _allow_list(rules)
    key_patterns = [p.pattern for p in re2_patterns(rules) if p.kind == "key" and p.action != "keep"]
    keep_patterns = [p.pattern for p in re2_patterns(rules) if p.kind == "key" and p.action == "keep"]
    return {
        "memory_limiter": dict(_MEMORY_LIMITER),
        "transform/redact": {
            "error_mode": "propagate",
            "log_statements": [
                {"context": "log", "statements": _attribute_statements(rules, "log.attributes")},
                {"context": "log", "statements": _body_statements(rules)},
            ],
            "trace_statements": [
                {"context": "span", "statements": _span_statements(rules)},
                {"context": "spanevent", "statements": _attribute_statements(rules, "spanevent.attributes")},
            ],
        },
        "redaction": {
            "allow_all_keys": True,
            "ignored_keys": exact,
            "ignored_key_patterns": _regex_list(keep_patterns),
            "blocked_key_patterns": _regex_list(key_patterns),
            "blocked_values": _regex_list([pattern for pattern, _ in _value_detectors(rules)]),
            # A value that is exactly one of the rule file's tokens was written by transform/redact:
            # keep it. Only these exact tokens: "[ASIA...]" in brackets is an AWS key, not a token.
            "allowed_values": _regex_list([_token_values(rules)]),
            "redact_all_types": True,
            "summary": "silent",
        },
        "transform/finish": {
            "error_mode": "propagate",
            "log_statements": [{"context": "log", "statements": _finish_statements(rules)}],
        },
    }


_MEMORY_LIMITER: Final = {"check_interval": "1s", "limit_percentage": 75, "spike_limit_percentage": 20}
_CONTRIB_LOGS: Final = ["memory_limiter", "transform/redact", "redaction", "transform/finish"]
_CONTRIB_TRACES: Final = ["memory_limiter", "transform/redact", "redaction"]


def audit_redaction(rules_file: str = SHIPPED_RULES) -> dict[str, Any]:
    """The ``processors`` section of the ``auditredaction`` profiles (memory_limiter, auditredaction).

    *rules_file* is the default of ``${env:OTEL_AUDIT_REDACTION_RULES}``: the path the collector
    reads the rule file from (a relative path is relative to the collector's working directory).
    """
    # The resolver reads a ${env:…:-default} default as YAML: the path must come back as itself.
    if any(char in rules_file for char in "${}\n") or yaml.safe_load(rules_file or "~") != rules_file:
        raise ValueError(f"rules_file {rules_file!r} cannot be written into a collector config")
    return {
        "memory_limiter": dict(_MEMORY_LIMITER),
        PROCESSOR: {
            "rules_file": _env(ENV_REDACTION_RULES, rules_file),
            "secret": _env(ENV_REDACTION_SECRET, ""),
        },
    }


def render_config(
    rules: RedactionRules, profile: Profile, *, rules_file: str = SHIPPED_RULES, sink: Sink | None = None
) -> dict[str, Any]:
    """The whole collector configuration of *profile* as a plain mapping.

    Args:
        rules: the rule file, validated (rendered into the processors of ``contrib-only``).
        profile: one of :data:`PROFILES`.
        rules_file: where the ``auditredaction`` processor reads the rule file (see
            :func:`audit_redaction`); unused by ``contrib-only``.
        sink: another exporter than the profile's (``file`` for tests and benchmarks).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    sink = sink or _PROFILE_SINK[profile]
    if sink not in SINKS:
        raise ValueError(f"unknown sink {sink!r}; expected one of {', '.join(SINKS)}")
    http_default = "127.0.0.1:4319" if sink == "serve" else "127.0.0.1:4318"
    contrib = profile == "contrib-only"
    config: dict[str, Any] = {
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": _env(ENV_OTLP_GRPC_ENDPOINT, "127.0.0.1:4317")},
                    "http": {"endpoint": _env(ENV_OTLP_HTTP_ENDPOINT, http_default)},
                }
            }
        },
        "processors": processors(rules) if contrib else audit_redaction(rules_file),
        "exporters": {},
        "extensions": {"health_check": {"endpoint": _env(ENV_HEALTH_ENDPOINT, "127.0.0.1:13133")}},
        "service": {
            "extensions": ["health_check"],
            "telemetry": {
                "metrics": {
                    "readers": [
                        {
                            "pull": {
                                "exporter": {
                                    "prometheus": {"host": "127.0.0.1", "port": _env(ENV_METRICS_PORT, "8888")}
                                }
                            }
                        }
                    ]
                }
            },
            "pipelines": {},
        },
    }
    if sink == "clickhouse":
        exporter = "clickhouse"
        config["extensions"]["file_storage/queue"] = {
            "directory": _env(ENV_QUEUE_DIRECTORY, "/var/lib/otelcol-audit/queue"),
            "create_directory": True,
            "fsync": True,
        }
        config["service"]["extensions"].append("file_storage/queue")
        config["exporters"][exporter] = {
            "endpoint": _env(ENV_CLICKHOUSE_ENDPOINT, "tcp://127.0.0.1:9000?dial_timeout=10s"),
            "database": _env(ENV_CLICKHOUSE_DATABASE, "default"),
            "username": _env(ENV_CLICKHOUSE_USERNAME, "default"),
            "password": _env(ENV_CLICKHOUSE_PASSWORD, ""),
            "create_schema": False,
            "logs_table_name": "otel_logs",
            "traces_table_name": "otel_traces",
            "timeout": "10s",
            "sending_queue": {
                "enabled": True,
                "storage": "file_storage/queue",
                "block_on_overflow": True,
                "sizer": "requests",
                "queue_size": 1000,
                "num_consumers": 2,
                "batch": {"flush_timeout": "5s", "min_size": 5000, "sizer": "items"},
            },
            "retry_on_failure": {
                "enabled": True,
                "initial_interval": "1s",
                "max_interval": "30s",
                "max_elapsed_time": "0s",
            },
        }
    elif sink == "serve":
        exporter = "otlp_http"
        config["exporters"][exporter] = {
            "endpoint": _env(ENV_SERVE_ENDPOINT, "http://127.0.0.1:4318"),
            "sending_queue": {"enabled": True, "block_on_overflow": True},
            "retry_on_failure": {"enabled": True, "max_elapsed_time": "0s"},
        }
    else:
        exporter = "file"
        config["exporters"][exporter] = {"path": _env(ENV_FILE_PATH, "./otel-audit-collector.jsonl"), "format": "json"}
    logs, traces = (_CONTRIB_LOGS, _CONTRIB_TRACES) if contrib else (["memory_limiter", PROCESSOR],) * 2
    config["service"]["pipelines"] = {
        "logs": {"receivers": ["otlp"], "processors": list(logs), "exporters": [exporter]},
        "traces": {"receivers": ["otlp"], "processors": list(traces), "exporters": [exporter]},
    }
    return config


_HEADER: Final = """\
# otel-audit collector configuration, profile {profile}.
# GENERATED by `otel-audit collector-config --profile {profile}`: do not edit; regenerate.
# Redaction: otel-audit's `auditredaction` processor reads the rule file when the collector
# starts: $OTEL_AUDIT_REDACTION_RULES, else {rules_file}
# (a relative path is relative to the collector's working directory), with the pseudonym key
# $OTEL_AUDIT_REDACTION_SECRET (needed only when a rule pseudonymizes). Same rules, same output
# as in-process redaction, byte for byte: docs/redaction.md, "The collector".
# Run: otelcol-audit --config {name}   (build it with `make collector`)
{envs}
"""

CONTRIB_LIMITS: Final = """\
# LIMITS, measured on the redaction corpus (docs/redaction.md, "The contrib-only profile"): OTTL
# and the redaction processor have no validators, decoders or key normalisation, so {leaked} of
# {planted} planted values pass this profile (in-process and auditredaction: {residual}), and
# {false_positives} of {near_misses} near misses are changed (in-process: {fp_in_process}). \
No pseudonyms (masked instead),
# no audit.redaction.* counts, `****` instead of typed tokens below the top level. Throughput on
# one core: {contrib_rate} records/s, vs {audit_rate} with auditredaction and {passthrough_rate} without
# redaction (bench/bench_collector.py, PII corpus; docs/benchmarks.md). Prefer the other profiles.
"""
"""What the contrib-only header says of its limits (figures of docs/redaction.md and docs/benchmarks.md)."""

CONTRIB_FIGURES: Final = {  # measured; tests/redact/test_redaction_collector.py holds them as ceilings
    "leaked": "332",
    "planted": "3,053",
    "residual": "18",
    "false_positives": "341",
    "near_misses": "708",
    "fp_in_process": "9",
    "contrib_rate": "~1,070",
    "audit_rate": "~20,000",
    "passthrough_rate": "~57,000",
}

_CONTRIB_HEADER: Final = """\
# otel-audit collector configuration, profile contrib-only: for a stock OpenTelemetry Collector
# contrib distribution (v0.161 components), without otel-audit's `auditredaction` processor.
# GENERATED from {source} by `otel-audit collector-config --profile contrib-only`:
# do not edit; change the rule file and regenerate (a test fails when they disagree).
{limits}# Run: otelcol-contrib --config {name}   (otelcol-audit runs it too)
{envs}
"""


def render_yaml(
    rules: RedactionRules,
    profile: Profile,
    *,
    source: str = SHIPPED_RULES,
    rules_file: str = SHIPPED_RULES,
    sink: Sink | None = None,
) -> str:
    """The configuration of *profile* as YAML text with a header naming where its rules come from.

    *source* is the rule file as the header of ``contrib-only`` names it (its rules are written
    into the config); *rules_file* is where the ``auditredaction`` processor of the other
    profiles reads it (see :func:`audit_redaction`).
    """
    config = render_config(rules, profile, rules_file=rules_file, sink=sink)
    body: str = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100_000)
    names = sorted({part.split(":-")[0].rstrip("}") for part in body.split("${env:")[1:]})
    envs = textwrap.fill(
        "Environment overrides (default in the file): " + ", ".join(names) + ".",
        width=98,
        initial_indent="# ",
        subsequent_indent="#   ",
        break_on_hyphens=False,
    )
    name = f"collector-config/{profile}.yaml"
    if profile == "contrib-only":
        limits = CONTRIB_LIMITS.format(**CONTRIB_FIGURES)
        return _CONTRIB_HEADER.format(source=source, limits=limits, name=name, envs=envs) + body
    return _HEADER.format(profile=profile, rules_file=rules_file, name=name, envs=envs) + body
