"""The root of the exception tree: :class:`GatewayError`, its :class:`Location` and :class:`Ack`."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Literal

__all__ = ["Ack", "GatewayError", "Location", "Severity", "error_from_dict"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Ack:
    """What an error turns into on each acknowledgment channel.

    Attributes:
        contrl: UN/EDIFACT data element 0085 (syntax error code) reported in a CONTRL UCI/UCM/UCS/UCD,
            or ``None`` when the error is not a syntax-level one (it then goes back as an APERAK).
        mdn: the AS2 MDN disposition modifier (RFC 4130 §7.4.3), ``None`` when the AS2 transfer itself
            succeeded (``processed``) even though the document is refused at a higher level.
        http: the HTTP status the inbound HTTP endpoint answers with.
    """

    contrl: str | None
    mdn: str | None
    http: int

    @property
    def contrl_action(self) -> str:
        """UN/EDIFACT 0083 action code: 4 (rejected) for a syntax error, 7 (acknowledged) otherwise."""
        return "4" if self.contrl is not None else "7"


@dataclass(frozen=True, slots=True)
class Location:
    """Where in the input (or in the configuration) an error lies. Every field is optional."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    offset: int | None = None
    interchange: str | None = None
    message: str | None = None
    segment: str | None = None
    segment_index: int | None = None
    element: int | None = None
    component: int | None = None
    xpath: str | None = None
    json_pointer: str | None = None
    field: str | None = None
    mapping: str | None = None
    """The mapping rule involved, as ``file:line:column`` (the file that says how to map, not the input)."""

    def merge(self, other: Location | None) -> Location:
        """Fill the fields this location lacks from ``other`` (self wins)."""
        if other is None:
            return self
        values = {k: v for k in _LOCATION_FIELDS if (v := getattr(self, k)) is not None}
        return replace(other, **values) if values else other

    def is_empty(self) -> bool:
        return all(getattr(self, k) is None for k in _LOCATION_FIELDS)

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.message:
            parts.append(f"message {self.message}")
        if self.segment or self.segment_index is not None:
            seg = f"segment {self.segment_index}" if self.segment_index is not None else "segment"
            parts.append(f"{seg} ({self.segment})" if self.segment else seg)
        if self.element is not None:
            parts.append(f"element {self.element}")
        if self.component is not None:
            parts.append(f"component {self.component}")
        if self.xpath:
            parts.append(self.xpath)
        if self.json_pointer is not None:
            parts.append(f"JSON pointer {self.json_pointer or '/'}")
        if self.field:
            parts.append(f"field {self.field}")
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column is not None else ""))
        elif self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.mapping:
            parts.append(f"mapping rule {self.mapping}")
        return ", ".join(parts) if parts else "(no location)"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k in _LOCATION_FIELDS if (v := getattr(self, k)) is not None}


_LOCATION_FIELDS = tuple(f.name for f in fields(Location))
"""Location's fields, read by name (``dataclasses.asdict`` deep-copies, several times slower)."""

_REGISTRY: dict[str, type[GatewayError]] = {}


class GatewayError(Exception):
    """Root of every error the gateway raises or reports."""

    code: ClassVar[str] = "GATEWAY"
    retryable: ClassVar[bool] = False
    ack: ClassVar[Ack] = Ack(contrl="18", mdn="error: unexpected-processing-error", http=500)

    message: str
    location: Location
    severity: Severity
    hint: str | None
    details: dict[str, Any]

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        severity: Severity = "error",
        hint: str | None = None,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        contrl: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.severity = severity
        self.hint = hint
        self.details = dict(details or {})
        if code is not None:
            self.code = code  # type: ignore[misc]  # a finer code for this instance (e.g. a rule id)
        if contrl is not None:
            self.ack = replace(type(self).ack, contrl=contrl)  # type: ignore[misc]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def __str__(self) -> str:
        where = "" if self.location.is_empty() else f" (at {self.location})"
        return f"[{self.code}] {self.message}{where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r}, location={self.location!r})"

    def at(self, location: Location) -> GatewayError:
        """Complete this error's location with ``location`` (the error's own fields win). Returns self."""
        self.location = self.location.merge(location)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: what the CLI prints with ``--json-errors`` and the store keeps."""
        data: dict[str, Any] = {
            "type": type(self).__name__,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
            "retryable": self.retryable,
            "location": self.location.to_dict(),
            "ack": {"contrl": self.ack.contrl, "mdn": self.ack.mdn, "http": self.ack.http},
        }
        if self.hint:
            data["hint"] = self.hint
        if self.details:
            data["details"] = self.details
        return data


_REGISTRY["GatewayError"] = GatewayError


def error_from_dict(data: dict[str, Any]) -> GatewayError:
    """Rebuild an error from :meth:`GatewayError.to_dict` output (for errors read back from the store)."""
    cls = _REGISTRY.get(str(data.get("type")), GatewayError)
    loc = Location(**data.get("location", {}))
    err = cls.__new__(cls)
    GatewayError.__init__(
        err,
        str(data.get("message", "")),
        location=loc,
        severity=data.get("severity", "error"),
        hint=data.get("hint"),
        details=data.get("details"),
        code=data.get("code"),
        contrl=(data.get("ack") or {}).get("contrl"),
    )
    return err
