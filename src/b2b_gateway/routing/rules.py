"""Routing rules from a file: which documents go where.

The file is ``mappings/routes.yaml`` (``paths.routes_file`` to move it). Rules are tried in order; the
first that matches decides, unless it says ``continue: true`` (then later rules may add destinations).
A document no rule matches is *unroutable*: it is parked with the reason and can be replayed once a
rule is added. Without a routes file the gateway routes like :class:`~b2b_gateway.routing.DefaultRouter`.

.. code-block:: yaml

    routes:
      - name: test-orders-to-the-test-erp
        when: {document_type: order, test: true}
        to: [{exchange: b2b.erp.test}]
      - name: big-orders-also-archived
        when:
          direction: inbound
          sender: [RETAILER1, RETAILER2]      # partner ids (or the envelope sender)
          document_type: order
          content:
            - {path: totals.payable, op: gt, value: "10000"}
        to: [erp, {directory: /srv/b2b/big-orders}]
        continue: true
      - name: everything-inbound
        when: {direction: inbound}
        to: [erp]
      - name: erp-documents-to-their-partner
        when: {direction: outbound}
        to: [partner]                       # the document's own partner, in its format

Destinations: ``erp`` (the ERP exchange, canonical JSON), ``partner`` or ``{partner: ID, channel:
NAME, format: FMT}`` (a partner endpoint), ``{directory: PATH}``, ``{exchange: NAME, routing_key:
KEY}``. ``format`` may be given on any destination.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from b2b_gateway.errors import Location, RoutingConfigError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.pipeline.message import Direction, Message
from b2b_gateway.pipeline.ports import Destination

__all__ = ["Predicate", "Route", "RouteTable", "RulesRouter", "Target", "load_routes"]

log = get_logger("b2b_gateway.routing")

Op = Literal["eq", "ne", "in", "not_in", "matches", "exists", "missing", "gt", "ge", "lt", "le"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str | int | float) else value


class Predicate(_Model):
    """A test on the canonical document: ``path`` is dotted (``buyer.name``, ``lines.0.item``) or a JSON pointer."""

    path: str
    op: Op = "eq"
    value: Any = None

    def holds(self, document: Any) -> bool:
        found, value = _lookup(document, self.path)
        if self.op == "exists":
            return found
        if self.op == "missing":
            return not found
        if not found:
            return self.op in ("ne", "not_in")
        if self.op in ("eq", "ne"):
            equal = str(value) == str(self.value)
            return equal if self.op == "eq" else not equal
        if self.op in ("in", "not_in"):
            inside = str(value) in {str(v) for v in _listify(self.value) or []}
            return inside if self.op == "in" else not inside
        if self.op == "matches":
            return re.search(str(self.value), str(value)) is not None
        try:
            left, right = Decimal(str(value)), Decimal(str(self.value))
        except InvalidOperation:
            return False
        return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[self.op]


def _lookup(document: Any, path: str) -> tuple[bool, Any]:
    parts = (
        [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
        if path.startswith("/")
        else path.split(".")
    )
    current = document
    for part in parts:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


class Match(_Model):
    """What a rule matches; every given field must match (a list means any of its values)."""

    direction: Literal["inbound", "outbound"] | None = None
    sender: list[str] | None = None
    receiver: list[str] | None = None
    document_type: list[str] | None = None
    format: list[str] | None = None
    channel: list[str] | None = None
    test: bool | None = None
    content: list[Predicate] = Field(default_factory=list)

    _lists = field_validator("sender", "receiver", "document_type", "format", "channel", mode="before")(_listify)


class Target(_Model):
    """One destination of a rule."""

    erp: bool = False
    partner: str | None = None
    own_partner: bool = False
    channel: str | None = None
    directory: str | None = None
    exchange: str | None = None
    routing_key: str | None = None
    format: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> Target:
        if raw == "erp":
            return cls(erp=True)
        if raw == "partner":
            return cls(own_partner=True)
        if isinstance(raw, dict) and raw.get("partner") is None and "partner" in raw:
            return cls.model_validate({**raw, "partner": None, "own_partner": True})
        return cls.model_validate(raw)


class Route(_Model):
    name: str
    when: Match = Field(default_factory=Match)
    to: list[Target]
    continue_: bool = Field(default=False, alias="continue")

    @field_validator("to", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> list[Target]:
        return [Target.parse(v) for v in _listify(value) or []]


class RouteTable(_Model):
    routes: list[Route] = Field(default_factory=list)


def load_routes(path: Path) -> RouteTable:
    """Read and check a routes file.

    Raises:
        RoutingConfigError: the file cannot be read or parsed, or a rule is invalid (with where).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise RoutingConfigError(
            f"cannot read the routes file: {exc.strerror}", location=Location(file=str(path))
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(file=str(path), line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None)
        raise RoutingConfigError(f"invalid YAML: {getattr(exc, 'problem', exc)}", location=where) from None
    try:
        return RouteTable.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise RoutingConfigError(
            f"invalid routing rule at {field}: {first['msg']}", location=Location(file=str(path), field=field)
        ) from None


class RulesRouter:
    """Routes by the rules of a file, reloaded when the file changes (an invalid new file keeps the old rules)."""

    def __init__(
        self,
        path: Path,
        partners: PartnerDirectory | Callable[[], PartnerDirectory] | None = None,
        *,
        company_id: str = "GATEWAY",
        check_every_s: float = 1.0,
    ) -> None:
        self.path = path
        self._partners = partners
        self.company_id = company_id
        self.check_every_s = check_every_s
        self._mtime: int | None = None
        self._checked = 0.0
        self.table = load_routes(path)
        self._mtime = path.stat().st_mtime_ns

    @property
    def partners(self) -> PartnerDirectory:
        source = self._partners
        if source is None:
            return PartnerDirectory()
        return source if isinstance(source, PartnerDirectory) else source()

    def maybe_reload(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.check_every_s:
            return
        self._checked = now
        try:
            mtime = self.path.stat().st_mtime_ns
        except OSError:
            return
        if mtime == self._mtime:
            return
        self._mtime = mtime
        try:
            self.table = load_routes(self.path)
            log.info("routes.reloaded", file=str(self.path), rules=len(self.table.routes))
        except RoutingConfigError as exc:
            log.error("routes.invalid", file=str(self.path), error=str(exc), kept=len(self.table.routes))

    def _parties(self, message: Message) -> tuple[set[str], set[str]]:
        envelope = next((e.data for e in message.events if e.stage == "identify"), {})
        ours = {self.company_id}
        theirs = {v for v in (message.partner_id, envelope.get("sender")) if v}
        if message.direction is Direction.INBOUND:
            return theirs, ours | ({envelope["recipient"]} if envelope.get("recipient") else set())
        return ours, {v for v in (message.partner_id, envelope.get("recipient")) if v}

    def _matches(self, when: Match, message: Message, content: Callable[[], Any]) -> bool:
        senders, receivers = self._parties(message)
        checks = [
            when.direction is None or when.direction == message.direction.value,
            when.sender is None or bool(senders & set(when.sender)),
            when.receiver is None or bool(receivers & set(when.receiver)),
            when.document_type is None or message.document_type in when.document_type,
            when.format is None or message.format in when.format,
            when.channel is None or message.channel in when.channel,
            when.test is None or when.test == message.test,
        ]
        return all(checks) and all(p.holds(content()) for p in when.content)

    def _destination(self, target: Target, message: Message) -> Destination | None:
        if target.erp:
            return Destination("erp", "erp", target.format or "canonical-json", partner_id=message.partner_id)
        if target.directory:
            return Destination(
                f"dir:{target.directory}", "directory", target.format or "canonical-json", address=target.directory
            )
        if target.exchange:
            address = f"{target.exchange}/{target.routing_key}" if target.routing_key else target.exchange
            return Destination(f"amqp:{address}", "queue", target.format or "canonical-json", address=address)
        partner_id = target.partner or message.partner_id
        if partner_id is None:
            return None
        profile = self.partners.get(partner_id)
        fmt = target.format or (profile.outbound_format(message.document_type or "") if profile else "canonical-json")
        name = f"partner:{partner_id}" + (f"/{target.channel}" if target.channel else "")
        return Destination(name, "partner", fmt, partner_id=partner_id)

    def route(self, message: Message) -> list[Destination]:
        """The destinations of ``message`` (empty when no rule matches: the pipeline parks it)."""
        self.maybe_reload()
        cache: list[Any] = []

        def content() -> Any:
            if not cache:
                doc = message.canonical
                cache.append(doc.model_dump(mode="json", exclude_none=True) if doc is not None else {})
            return cache[0]

        out: dict[str, Destination] = {}
        for rule in self.table.routes:
            if not self._matches(rule.when, message, content):
                continue
            for target in rule.to:
                dest = self._destination(target, message)
                if dest is not None:
                    out.setdefault(dest.name, dest)
            if not rule.continue_:
                break
        return list(out.values())
