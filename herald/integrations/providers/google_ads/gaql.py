"""A small Google Ads Query Language (GAQL) parser and row filter, for the fake.

Duties: turn query text into a ``GaqlQuery`` (SELECT fields, FROM resource, WHERE
conditions joined by AND, ORDER BY, LIMIT; PARAMETERS are accepted and ignored), and
decide whether a flattened row (``{"campaign.name": "…", "segments.date": "…"}``)
satisfies the conditions. Supported operators: ``= != < <= > >=``, ``IN`` / ``NOT IN``,
``BETWEEN … AND …``, ``LIKE`` / ``NOT LIKE`` (``%`` and ``_`` wildcards), ``IS NULL`` /
``IS NOT NULL`` and ``DURING`` with the common relative ranges. String literals take
single or double quotes with backslash escapes, as in Google's grammar.

Malformed queries raise ``GaqlError`` carrying a ``queryError`` code, which the fake
renders in Google's error envelope.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

__all__ = ["GaqlError", "GaqlQuery", "compare_key", "holds", "parse_gaql"]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
     |(?P<number>-?\d+(?:\.\d+)?)
     |(?P<op>!=|>=|<=|=|<|>|\(|\)|,)
     |(?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_RESERVED = frozenset(
    "SELECT FROM WHERE AND ORDER BY LIMIT PARAMETERS ASC DESC IN NOT LIKE IS NULL BETWEEN "
    "DURING".split()
)
_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_DURING = frozenset({"TODAY", "YESTERDAY", "LAST_7_DAYS", "LAST_14_DAYS", "LAST_30_DAYS"})


class GaqlError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # "=", "IN", "NOT IN", "BETWEEN", "LIKE", "IS NULL", "DURING", …
    values: tuple[str, ...]


@dataclass(frozen=True)
class GaqlQuery:
    fields: tuple[str, ...]
    resource: str
    conditions: tuple[Condition, ...] = ()
    order_by: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    limit: int | None = None
    resources: frozenset[str] = frozenset()  # first segments of the SELECT fields

    def filters_on(self, name: str) -> bool:
        return any(condition.field == name for condition in self.conditions)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise GaqlError("BAD_SYMBOL", f"Unexpected input at position {position}.")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def next(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise GaqlError("UNEXPECTED_END_OF_QUERY", "The query ended unexpectedly.")
        self.position += 1
        return token

    def take_keyword(self, *words: str) -> bool:
        count = len(words)
        upcoming = self.tokens[self.position : self.position + count]
        if len(upcoming) == count and all(
            kind == "word" and value.upper() == word
            for (kind, value), word in zip(upcoming, words, strict=True)
        ):
            self.position += count
            return True
        return False

    def keyword(self, word: str, code: str) -> None:
        if not self.take_keyword(word):
            raise GaqlError(code, f"Expected {word}.")

    def take_op(self, op: str) -> bool:
        if self.peek() == ("op", op):
            self.position += 1
            return True
        return False

    def field_name(self) -> str:
        kind, value = self.next()
        if kind != "word" or value.upper() in _RESERVED:
            raise GaqlError("BAD_FIELD_NAME", f"Expected a field name, got {value!r}.")
        return value.lower()

    def value(self) -> str:
        kind, value = self.next()
        if kind == "op":
            raise GaqlError("BAD_VALUE", f"Expected a value, got {value!r}.")
        return value

    def value_list(self) -> tuple[str, ...]:
        if not self.take_op("("):
            raise GaqlError("EXPECTED_LIST", "Expected a parenthesised list of values.")
        values = [self.value()]
        while self.take_op(","):
            values.append(self.value())
        if not self.take_op(")"):
            raise GaqlError("EXPECTED_LIST", "Expected ')' after the list of values.")
        return tuple(values)

    def condition(self) -> Condition:
        name = self.field_name()
        for words, op in (
            (("NOT", "IN"), "NOT IN"),
            (("IN",), "IN"),
            (("NOT", "LIKE"), "NOT LIKE"),
            (("LIKE",), "LIKE"),
            (("IS", "NOT", "NULL"), "IS NOT NULL"),
            (("IS", "NULL"), "IS NULL"),
        ):
            if self.take_keyword(*words):
                if op in {"IN", "NOT IN"}:
                    return Condition(name, op, self.value_list())
                values = () if op.endswith("NULL") else (self.value(),)
                return Condition(name, op, values)
        if self.take_keyword("BETWEEN"):
            low = self.value()
            self.keyword("AND", "EXPECTED_AND")
            return Condition(name, "BETWEEN", (low, self.value()))
        if self.take_keyword("DURING"):
            constant = self.value().upper()
            if constant not in _DURING:
                raise GaqlError("BAD_VALUE", f"Unsupported date range {constant}.")
            return Condition(name, "DURING", (constant,))
        kind, op = self.next()
        if kind != "op" or op not in _COMPARISONS:
            raise GaqlError("BAD_OPERATOR", f"Unsupported operator {op!r}.")
        return Condition(name, op, (self.value(),))

    def order_by(self) -> tuple[tuple[str, bool], ...]:
        self.keyword("BY", "EXPECTED_BY")
        order = []
        while True:
            name = self.field_name()
            descending = self.take_keyword("DESC")
            if not descending:
                self.take_keyword("ASC")
            order.append((name, descending))
            if not self.take_op(","):
                return tuple(order)

    def limit(self) -> int:
        kind, value = self.next()
        if kind != "number" or not value.isdigit() or int(value) <= 0:
            raise GaqlError("BAD_LIMIT_VALUE", f"Bad LIMIT value {value!r}.")
        return int(value)


def parse_gaql(text: str) -> GaqlQuery:
    parser = _Parser(text)
    parser.keyword("SELECT", "EXPECTED_SELECT")
    fields = [parser.field_name()]
    while parser.take_op(","):
        fields.append(parser.field_name())
    parser.keyword("FROM", "EXPECTED_FROM")
    resource = parser.field_name()
    conditions = []
    if parser.take_keyword("WHERE"):
        conditions.append(parser.condition())
        while parser.take_keyword("AND"):
            conditions.append(parser.condition())
    order = parser.order_by() if parser.take_keyword("ORDER") else ()
    limit = parser.limit() if parser.take_keyword("LIMIT") else None
    if parser.take_keyword("PARAMETERS"):
        parser.position = len(parser.tokens)  # include_drafts etc.: no effect here
    leftover = parser.peek()
    if leftover is not None:
        raise GaqlError("UNEXPECTED_INPUT", f"Unexpected {leftover[1]!r}.")
    return GaqlQuery(
        fields=tuple(fields),
        resource=resource,
        conditions=tuple(conditions),
        order_by=order,
        limit=limit,
        resources=frozenset(name.split(".")[0] for name in fields),
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def compare_key(value: Any) -> tuple[int, float, str]:
    """Numbers order numerically, everything else as text; numbers sort first."""
    text = _text(value)
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def _during(constant: str, today: date) -> tuple[str, str]:
    if constant == "TODAY":
        return today.isoformat(), today.isoformat()
    if constant == "YESTERDAY":
        day = today - timedelta(days=1)
        return day.isoformat(), day.isoformat()
    days = int(constant.split("_")[1])
    # LAST_N_DAYS ends yesterday, like Google's.
    return (today - timedelta(days=days)).isoformat(), (today - timedelta(days=1)).isoformat()


def _like(pattern: str, text: str) -> bool:
    regex = "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern
    )
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _holds_one(condition: Condition, value: Any, today: date) -> bool:
    op, values = condition.op, condition.values
    text = _text(value)
    if op in {"IN", "NOT IN"}:
        return (text in values) == (op == "IN")
    if op in {"LIKE", "NOT LIKE"}:
        return _like(values[0], text) == (op == "LIKE")
    if op in {"IS NULL", "IS NOT NULL"}:
        return (value is None) == (op == "IS NULL")
    if op in {"BETWEEN", "DURING"}:
        low, high = values if op == "BETWEEN" else _during(values[0], today)
        return compare_key(low) <= compare_key(text) <= compare_key(high)
    if op == "=":
        return text == values[0]
    if op == "!=":
        return text != values[0]
    left, right = compare_key(text), compare_key(values[0])
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def holds(query: GaqlQuery, row: Mapping[str, Any], today: date) -> bool:
    """Whether ``row`` (flattened GAQL field → value) satisfies every condition."""
    return all(_holds_one(c, row.get(c.field), today) for c in query.conditions)
