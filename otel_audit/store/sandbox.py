"""The query sandbox: which caller-written SQL may run, decided on the engine's own parse tree.

``otel-audit query``, ``POST /v1/query`` and every read sent through ``serve``'s front door run
caller-written SQL. ClickHouse's ``readonly`` setting is not a sandbox: it still runs table
functions (``file()``, ``url()``), ``INTO OUTFILE`` and the ``file()`` scalar function. So a
statement runs only if **all** of the following hold, decided on the tree that the engine's own
parser builds (``parseQueryToJSON``), never on the text:

1. It is one ``SELECT`` (``WITH … SELECT``, ``UNION``/``INTERSECT``/``EXCEPT`` of them): no
   second statement, no ``INSERT``/DDL/``SYSTEM``/``EXPLAIN``/``SHOW``.
2. No ``INTO OUTFILE``, no ``FORMAT`` clause (the caller picks the output format elsewhere), no
   ``SETTINGS`` clause anywhere (the limits below are pinned).
3. Every table it reads is one of the store's own tables or views (unqualified, or qualified by
   the store's database), a ``WITH`` name of the same statement, a subquery, one of
   :data:`SYSTEM_TABLES`, or one of the generators in :data:`TABLE_FUNCTIONS`. Any other table
   function (``file``, ``url``, ``s3``, ``remote``, ``merge``, ``python``, …) is refused, in
   ``FROM`` and on the right of ``IN`` alike. A table name cannot be a query parameter.
4. It calls no function that reads files, reaches the network or another table behind the
   sandbox's back, sleeps, or writes: :data:`FORBIDDEN_FUNCTIONS` and the prefixes in
   :data:`FORBIDDEN_PREFIXES` (``APPLY(name)`` column transformers included).
5. Every node of the tree is of a kind this module knows (:data:`NODE_TYPES`): an unknown
   construct is refused, not guessed at.
6. Query parameters are plain names, each used by a ``{name:Type}`` placeholder of the statement
   (bound server-side, so a value can never become SQL), and none is of type ``Identifier``.

What runs is the engine's canonical text of the checked tree (``formatQuerySingleLine``), with
the pinned :class:`QueryLimits`, on a read-only session of its own, so a refused or failed
read never changes the session that writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from otel_audit.errors import QueryError

__all__ = [
    "FORBIDDEN_FUNCTIONS",
    "FORBIDDEN_PREFIXES",
    "NODE_TYPES",
    "PARSE_SETTINGS",
    "PARSE_SQL",
    "SYSTEM_TABLES",
    "TABLE_FUNCTIONS",
    "CheckedStatement",
    "QueryLimits",
    "QueryRefusedError",
    "UnknownTableRefusedError",
    "check_statement",
]

NODE_TYPES = frozenset(
    {
        "ArrayJoin",
        "Asterisk",
        "ColumnsApplyTransformer",
        "ColumnsExceptTransformer",
        "ColumnsListMatcher",
        "ColumnsRegexpMatcher",
        "ColumnsReplaceTransformer",
        "ColumnsReplaceTransformerReplacement",
        "ColumnsTransformerList",
        "ExpressionList",
        "Function",
        "Identifier",
        "InterpolateElement",
        "Literal",
        "OrderByElement",
        "QualifiedAsterisk",
        "QualifiedColumnsListMatcher",
        "QualifiedColumnsRegexpMatcher",
        "QueryParameter",
        "SampleRatio",
        "SelectIntersectExceptQuery",
        "SelectQuery",
        "SelectWithUnionQuery",
        "Subquery",
        "TableExpression",
        "TableIdentifier",
        "TableJoin",
        "TablesInSelectQuery",
        "TablesInSelectQueryElement",
        "WindowDefinition",
        "WindowListElement",
        "WithElement",
    }
)
"""Every kind of node a sandboxed statement may contain."""

SYSTEM_TABLES = frozenset({"one", "numbers", "tables", "columns", "functions"})
"""Tables of the ``system`` database a sandboxed statement may read (schema discovery, generators)."""

TABLE_FUNCTIONS = frozenset({"numbers", "generateSeries", "generate_series", "zeros"})
"""Table functions that only generate rows (bounded by the pinned limits)."""

FORBIDDEN_FUNCTIONS = frozenset(
    name.lower()
    for name in (
        "file",  # reads any file the store's owner can
        "hasColumnInTable",  # looks into any table
        "sleep",
        "sleepEachRow",  # holds the engine for as long as the caller likes
        "generateSerialID",  # writes to Keeper
        "logTrace",  # writes to the server log
        "getClientHTTPHeader",
        "demangle",
        "evalMLMethod",
        "catboostEvaluate",  # loads a model library from a path
        "transactionID",
        "zookeeperSessionUptime",
    )
)
"""Scalar functions refused by name (case-insensitive)."""

FORBIDDEN_PREFIXES = ("dictget", "dicthas", "dictisin", "joinget", "filesystem", "naivebayes", "addressto", "__")
"""Families refused by prefix: dictionaries and Join tables (other sources), disk probes,
models read from server files, introspection, and the engine's internal ``__`` functions."""

_IN_FUNCTIONS = frozenset(
    {"in", "notin", "globalin", "globalnotin", "nullin", "notnullin", "globalnullin", "globalnotnullin"}
)
_ROOT_TYPES = frozenset({"SelectWithUnionQuery", "SelectIntersectExceptQuery"})
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

PARSE_SQL = "SELECT parseQueryToJSON({statement:String}), formatQuerySingleLine({statement:String})"
"""The one statement that parses caller SQL: the text travels as a bound value, never as SQL."""

PARSE_SETTINGS: Mapping[str, Any] = {"max_query_size": 262_144, "max_parser_depth": 200, "dialect": "clickhouse"}
"""Parser limits: a deeper or longer statement is refused by the engine before it is checked."""


class QueryRefusedError(QueryError):
    """The sandbox refused a statement before it ran; the message says what and why."""


class UnknownTableRefusedError(QueryRefusedError):
    """Refused because a table name is not one of the store's tables (as last read: it may be new)."""


@dataclass(frozen=True)
class QueryLimits:
    """Limits pinned on every sandboxed read (a statement cannot change them: SETTINGS is refused).

    Args:
        max_execution_time_s: wall-clock seconds before the engine stops the query.
        max_result_rows: rows a result may have; more is an error (add LIMIT or aggregate).
        max_result_bytes: uncompressed bytes a result may have.
        max_memory_bytes: memory one query may use.
    """

    max_execution_time_s: int = 60
    max_result_rows: int = 1_000_000
    max_result_bytes: int = 512 * 1024 * 1024
    max_memory_bytes: int = 4 * 1024 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_execution_time_s", "max_result_rows", "max_result_bytes", "max_memory_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise QueryError(f"query limit {name} must be a positive integer, not {value!r}")

    def settings(self) -> dict[str, Any]:
        """The engine settings that enforce these limits."""
        return {
            "max_execution_time": self.max_execution_time_s,
            "timeout_overflow_mode": "throw",
            "max_result_rows": self.max_result_rows,
            "max_result_bytes": self.max_result_bytes,
            "result_overflow_mode": "throw",
            "max_memory_usage": self.max_memory_bytes,
            "function_sleep_max_microseconds_per_block": 0,
            "allow_introspection_functions": 0,
            "dialect": "clickhouse",
        }


@dataclass(frozen=True)
class CheckedStatement:
    """A statement the sandbox accepted: the canonical text to run and its parameter names."""

    sql: str
    parameters: frozenset[str]


def check_statement(
    tree_json: str,
    canonical: str,
    *,
    database: str,
    tables: Collection[str],
    table_functions: Collection[str],
    parameters: Collection[str] = (),
) -> CheckedStatement:
    """Decide whether the statement parsed into *tree_json* may run (see the module docstring).

    Args:
        tree_json: the engine's ``parseQueryToJSON`` of the statement.
        canonical: the engine's ``formatQuerySingleLine`` of the same statement.
        database: the store's database.
        tables: the store's own tables and views.
        table_functions: every table function name the engine knows (refused unless generators).
        parameters: the names of the parameters the caller supplies.

    Raises:
        QueryRefusedError: the statement, or a parameter, is outside the sandbox.
    """
    try:
        tree = json.loads(tree_json)
    except (ValueError, RecursionError):
        raise QueryRefusedError("refused: the statement is too deeply nested to check") from None
    if not isinstance(tree, dict):
        raise QueryRefusedError("refused: the engine returned no parse tree for the statement")
    kind = tree.get("type")
    if kind not in _ROOT_TYPES:
        raise QueryRefusedError(f"refused: only one SELECT statement may run here, not {_describe_root(kind)}")
    checker = _Checker(database, frozenset(tables), {name.lower() for name in table_functions})
    used = checker.check(tree)
    for name in parameters:
        if not _PARAMETER_NAME.match(name):
            raise QueryRefusedError(f"refused: parameter name {name!r} is not a plain identifier")
        if name not in used:
            raise QueryRefusedError(f"refused: parameter {name!r} is not used by a {{{name}:Type}} placeholder")
    return CheckedStatement(canonical, frozenset(used))


def _describe_root(kind: object) -> str:
    text = str(kind or "an unknown statement")
    return re.sub(r"Query$", "", text).upper() + " (a statement that is not a SELECT)"


class _Checker:
    """One walk over a parse tree; collects parameter names, raises on the first refusal."""

    def __init__(self, database: str, tables: frozenset[str], table_functions: set[str]) -> None:
        self.database = database
        self.tables = tables
        self.table_functions = table_functions
        self.ctes: set[str] = set()
        self.aliases: set[str] = set()
        self.parameters: set[str] = set()

    def check(self, tree: dict[str, Any]) -> set[str]:
        for node in _nodes(tree):
            if node.get("type") == "WithElement" and isinstance(node.get("name"), str):
                self.ctes.add(node["name"])
            if isinstance(node.get("alias"), str):
                self.aliases.add(node["alias"])
        for node in _nodes(tree):
            self._node(node)
        return self.parameters

    def _node(self, node: dict[str, Any]) -> None:
        kind = node.get("type")
        if kind == "SetQuery":
            raise QueryRefusedError("refused: SETTINGS in a statement (the sandbox pins its own limits)")
        if kind not in NODE_TYPES:
            raise QueryRefusedError(f"refused: the sandbox does not allow the construct {kind!r}")
        if node.get("out_file") is not None or node.get("is_into_outfile_with_stdout"):
            raise QueryRefusedError("refused: INTO OUTFILE writes a file; results are returned, never written")
        if node.get("format_ast") is not None:
            raise QueryRefusedError("refused: a FORMAT clause (choose the output with --format)")
        if node.get("settings_ast") is not None:
            raise QueryRefusedError("refused: SETTINGS in a statement (the sandbox pins its own limits)")
        if kind == "TableExpression":
            self._table_expression(node)
        elif kind == "TableIdentifier":
            self._table(node)
        elif kind == "Function":
            self._function(str(node.get("name", "")))
            if str(node.get("name", "")).lower() in _IN_FUNCTIONS:
                self._in_operand(node)
        elif kind == "ColumnsApplyTransformer" and node.get("func_name"):
            self._function(str(node["func_name"]))
        elif kind == "QueryParameter":
            if str(node.get("param_type", "")).strip() == "Identifier":
                raise QueryRefusedError("refused: a query parameter of type Identifier (names are not parameters)")
            self.parameters.add(str(node.get("name")))

    def _table_expression(self, node: dict[str, Any]) -> None:
        function = node.get("table_function")
        if isinstance(function, dict):
            name = str(function.get("name", ""))
            if name not in TABLE_FUNCTIONS:
                raise QueryRefusedError(
                    f"refused: table function {name}() (the sandbox reads only the store's own tables; "
                    f"table functions reach files, the network or other tables)"
                )

    def _table(self, node: dict[str, Any]) -> None:
        if any(isinstance(child, dict) and child.get("type") == "QueryParameter" for child in node.get("children", [])):
            raise QueryRefusedError("refused: a table name given as a query parameter")
        parts = node.get("name_parts") or [node.get("name", "")]
        self._table_name([str(part) for part in parts], allow_alias=False)

    def _table_name(self, parts: list[str], *, allow_alias: bool) -> None:
        shown = ".".join(parts)
        if len(parts) == 1:
            name = parts[0]
            if name in self.tables or name in self.ctes or (allow_alias and name in self.aliases):
                return
            known = ", ".join(sorted(self.tables))
            raise UnknownTableRefusedError(f"refused: {shown!r} is not a table of the store ({known})")
        if len(parts) == 2:
            database, name = parts
            if database == self.database and name in self.tables:
                return
            if database == "system" and name in SYSTEM_TABLES:
                return
            if database == "system":
                raise QueryRefusedError(
                    f"refused: table {shown} (the sandbox allows system.{{{', '.join(sorted(SYSTEM_TABLES))}}})"
                )
        raise QueryRefusedError(f"refused: table {shown} is outside the store's database {self.database!r}")

    def _function(self, name: str) -> None:
        lowered = name.lower()
        if lowered in FORBIDDEN_FUNCTIONS or lowered.startswith(FORBIDDEN_PREFIXES):
            raise QueryRefusedError(
                f"refused: function {name}() reads files, the network, other tables or server internals, "
                "or sleeps or writes"
            )
        if lowered in self.table_functions and name not in TABLE_FUNCTIONS and lowered not in ("format", "fuzzquery"):
            raise QueryRefusedError(f"refused: table function {name}() (the sandbox reads only the store's own tables)")

    def _in_operand(self, node: dict[str, Any]) -> None:
        arguments = (node.get("arguments") or {}).get("children") or []
        if len(arguments) != 2 or not isinstance(arguments[1], dict):
            return
        operand = arguments[1]
        if operand.get("type") == "Identifier":
            parts = operand.get("name_parts") or [operand.get("name", "")]
            self._table_name([str(part) for part in parts], allow_alias=True)


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every dict node of *tree*, iteratively (the parser already bounded its depth); literals' values are data."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            for key, value in item.items():
                if not (key == "value" and item.get("type") == "Literal"):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
