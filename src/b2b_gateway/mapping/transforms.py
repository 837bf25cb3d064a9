"""Value transforms of mapping rules, each with its inverse: dates, decimals, code tables, units, text.

Every function takes the partner's text and returns the canonical value (``*_in``), or the canonical
value and returns the partner's text (``*_out``). A value that does not fit raises
``MappingError`` with the reason; the engine adds the mapping rule and the place in the document.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib.metadata import entry_points
from typing import Any, Protocol

from b2b_gateway.errors import MappingConfigError, MappingError

__all__ = [
    "ENTRY_POINT_GROUP",
    "UNIT_FACTORS",
    "CodeTable",
    "FunctionContext",
    "MappingFunction",
    "date_in",
    "date_out",
    "date_pattern_in",
    "date_pattern_out",
    "decimal_in",
    "decimal_out",
    "load_function",
    "split_text",
    "unit_factor",
]

ENTRY_POINT_GROUP = "b2b_gateway.mapping_functions"


_DATE_FORMATS = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S", "101": "%y%m%d"}
_BY_LENGTH = {8: "102", 12: "203", 14: "204", 6: "101"}


def date_pattern_in(text: str, pattern: str, part: str = "date") -> str:
    """A partner date in its own strftime ``pattern`` (``%d.%m.%Y``) as ISO 8601."""
    try:
        moment = dt.datetime.strptime(text.strip(), pattern)
    except ValueError:
        raise MappingError(f"{text!r} is not a date like {pattern}") from None
    return moment.time().isoformat() if part == "time" else moment.date().isoformat()


def date_pattern_out(value: str, pattern: str) -> str:
    """A canonical ISO date written in the partner's strftime ``pattern``."""
    try:
        return dt.datetime.fromisoformat(value).strftime(pattern)
    except ValueError:
        raise MappingError(f"{value!r} is not an ISO 8601 date") from None


def date_in(text: str, fmt: str, part: str = "date") -> str:
    """A partner date in EDIFACT format ``fmt`` (102/203/204/101/718, ``iso`` or ``auto``) as ISO 8601.

    ``part`` picks the ``date`` or ``time`` of a 203/204 value, or the ``start``/``end`` of a 718 range.
    """
    value = text.strip()
    if fmt == "718" or (fmt == "auto" and re.fullmatch(r"\d{8}-\d{8}", value)):
        if not re.fullmatch(r"\d{8}-\d{8}", value):
            raise MappingError(f"{value!r} is not a 718 date range (CCYYMMDD-CCYYMMDD)")
        start, end = value.split("-")
        return date_in(end if part == "end" else start, "102")
    if fmt == "iso" or (fmt == "auto" and "-" in value):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise MappingError(f"{value!r} is not an ISO 8601 date") from None
        return moment.time().isoformat() if part == "time" else moment.date().isoformat()
    code = _BY_LENGTH.get(len(value), "?") if fmt == "auto" else fmt
    pattern = _DATE_FORMATS.get(code)
    if pattern is None:
        raise MappingError(f"{value!r} is not a date in a known format (102, 203, 204, 718)")
    try:
        moment = dt.datetime.strptime(value, pattern)
    except ValueError:
        raise MappingError(f"{value!r} is not a date in format {code} ({pattern})") from None
    return moment.time().isoformat() if part == "time" else moment.date().isoformat()


def date_out(value: str, fmt: str, part: str = "date", current: str | None = None) -> str:
    """A canonical ISO date (or time) in EDIFACT format ``fmt``; a 718 range fills ``part`` of ``current``."""
    try:
        text = value if part != "time" else f"2000-01-01T{value}"
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MappingError(f"{value!r} is not an ISO 8601 date") from None
    if fmt == "iso":
        return moment.date().isoformat()
    if fmt == "718":
        start, _, end = (current or "-").partition("-")
        day = moment.strftime("%Y%m%d")
        return f"{day}-{end}" if part == "start" else f"{start}-{day}"
    return moment.strftime(_DATE_FORMATS.get(fmt, "%Y%m%d"))


def decimal_in(text: str, mark: str = "auto") -> str:
    """A partner number (``1.234,50``, ``1234.5``, ``-3``) as a canonical decimal string."""
    value = text.strip().replace(" ", "")
    if mark == "," or (mark == "auto" and "," in value and ("." not in value or value.rfind(",") > value.rfind("."))):
        value = value.replace(".", "").replace(",", ".")
    elif mark in (".", "auto"):
        value = value.replace(",", "")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise MappingError(f"{text!r} is not a number") from None
    if not number.is_finite():
        raise MappingError(f"{text!r} is not a finite number")
    return format(number, "f")


def decimal_out(value: Any, mark: str = ".") -> str:
    """A canonical decimal written with the partner's decimal mark (``.`` unless ``,``)."""
    try:
        text = format(Decimal(str(value)), "f")
    except InvalidOperation:
        raise MappingError(f"{value!r} is not a number") from None
    return text.replace(".", ",") if mark == "," else text


@dataclass(frozen=True, slots=True)
class CodeTable:
    """A translation table: partner code -> canonical code, and the way back.

    The way back is the explicit ``outbound`` section of the table file when it has one, else the first
    partner code that translates to each canonical code.
    """

    name: str
    inbound: Mapping[str, str]
    outbound: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None
    source: str | None = None

    @classmethod
    def build(
        cls,
        name: str,
        inbound: Mapping[str, str],
        outbound: Mapping[str, str] | None = None,
        default: str | None = None,
        source: str | None = None,
    ) -> CodeTable:
        back = dict(outbound or {})
        for partner, canonical in inbound.items():
            back.setdefault(canonical, partner)
        return cls(name, dict(inbound), back, default, source)

    def translate(self, code: str, *, reverse: bool, unknown: str) -> str:
        table = self.outbound if reverse else self.inbound
        if code in table:
            return table[code]
        if unknown == "keep":
            return code
        if unknown == "default" and self.default is not None:
            return self.default
        where = f" ({self.source})" if self.source else ""
        raise MappingError(f"code {code!r} is not in table {self.name!r}{where}")


UNIT_FACTORS: dict[str, tuple[str, Decimal]] = {
    "GRM": ("mass", Decimal("0.001")),
    "KGM": ("mass", Decimal(1)),
    "TNE": ("mass", Decimal(1000)),
    "MGM": ("mass", Decimal("0.000001")),
    "MMT": ("length", Decimal("0.001")),
    "CMT": ("length", Decimal("0.01")),
    "MTR": ("length", Decimal(1)),
    "KMT": ("length", Decimal(1000)),
    "MLT": ("volume", Decimal("0.001")),
    "LTR": ("volume", Decimal(1)),
    "MTQ": ("volume", Decimal(1000)),
    "C62": ("count", Decimal(1)),
    "DZN": ("count", Decimal(12)),
    "GRO": ("count", Decimal(144)),
}


def unit_factor(from_unit: str, to_unit: str) -> Decimal:
    """How many ``to_unit`` one ``from_unit`` is (both UN/ECE Rec 20). Raises MappingConfigError."""
    a, b = UNIT_FACTORS.get(from_unit), UNIT_FACTORS.get(to_unit)
    if a is None or b is None:
        unknown = from_unit if a is None else to_unit
        raise MappingConfigError(
            f"no conversion for unit {unknown!r}", hint=f"known units: {', '.join(sorted(UNIT_FACTORS))}"
        )
    if a[0] != b[0]:
        raise MappingConfigError(f"cannot convert {from_unit} ({a[0]}) to {to_unit} ({b[0]})")
    return a[1] / b[1]


def split_text(text: str, width: int | None, max_parts: int | None = None) -> list[str]:
    """``text`` in pieces of at most ``width`` characters, cut at spaces where possible."""
    if not width or len(text) <= width:
        parts = [text]
    else:
        parts, words = [], " ".join(text.split())
        while len(words) > width:
            cut = words.rfind(" ", 0, width + 1)
            cut = cut if cut > 0 else width
            parts.append(words[:cut])
            words = words[cut:].lstrip()
        if words:
            parts.append(words)
    return parts[:max_parts] if max_parts else parts


@dataclass(frozen=True, slots=True)
class FunctionContext:
    """What a mapping function may look at besides its value."""

    direction: str
    field: str
    read: Any
    """``read(path) -> str | None``: another value of the same scope (inbound: partner side)."""
    mapping: str


class MappingFunction(Protocol):
    """A function registered under the ``b2b_gateway.mapping_functions`` entry point group."""

    def __call__(self, value: Any, context: FunctionContext) -> Any: ...


def load_function(name: str, extra: Mapping[str, MappingFunction] | None = None) -> MappingFunction:
    """The function registered as ``name`` (``extra`` first, then the entry point group).

    Raises:
        MappingConfigError: nothing is registered under ``name``.
    """
    if extra and name in extra:
        return extra[name]
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        known = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
        raise MappingConfigError(
            f"no mapping function {name!r} is registered",
            hint=f"register it in entry point group {ENTRY_POINT_GROUP!r}; registered: {', '.join(known) or 'none'}",
        )
    function = found[0].load()
    if not callable(function):
        raise MappingConfigError(f"mapping function {name!r} ({found[0].value}) is not callable")
    return function  # type: ignore[no-any-return]
