"""Reads for operations: list and filter messages, show one with its trail, follow its lineage."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from b2b_gateway.canonical.documents import document_from_data
from b2b_gateway.errors import GatewayError, NotFoundError, error_from_dict
from b2b_gateway.pipeline.message import AuditEvent, Direction, Message, State
from b2b_gateway.store.records import decompress
from b2b_gateway.store.schema import audit_events, errors, messages, outbox, outputs, payloads, signatures

__all__ = [
    "MessageDetail",
    "MessageFilter",
    "MessageSummary",
    "count_by_state",
    "get_detail",
    "lineage",
    "list_messages",
    "load_message",
    "payload",
]


@dataclass(slots=True)
class MessageFilter:
    """Which messages to list. Every field narrows; ``business_key`` accepts ``*`` as a wildcard."""

    state: list[str] | None = None
    partner: str | None = None
    document_type: str | None = None
    direction: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    business_key: str | None = None
    correlation_id: str | None = None
    error_code: str | None = None
    roots_only: bool = False
    limit: int = 50
    offset: int = 0


@dataclass(slots=True)
class MessageSummary:
    """One row of a message list."""

    id: str
    root_id: str
    parent_id: str | None
    correlation_id: str
    replay_of: str | None
    direction: str
    channel: str
    partner_id: str | None
    format: str | None
    document_type: str | None
    business_key: str | None
    interchange_ref: str | None
    message_ref: str | None
    test: bool
    state: str
    received_at: dt.datetime
    updated_at: dt.datetime
    raw_sha256: str
    size: int
    canonical_sha256: str | None
    error_count: int
    warning_count: int
    last_error: str | None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["received_at"] = self.received_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data


@dataclass(slots=True)
class MessageDetail:
    """A message with everything recorded about it."""

    summary: MessageSummary
    events: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    children: list[str]
    signature: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary.to_dict(),
            "events": self.events,
            "errors": self.errors,
            "outputs": self.outputs,
            "children": self.children,
            "signature": self.signature,
        }


def _summary(row: Any) -> MessageSummary:
    data = {name: row[name] for name in MessageSummary.__slots__ if name in row}
    data["test"] = bool(data["test"])
    data["meta"] = dict(row["meta"] or {})
    return MessageSummary(**data)


def _filtered(flt: MessageFilter) -> Select[Any]:
    query = select(messages)
    if flt.state:
        query = query.where(messages.c.state.in_(flt.state))
    if flt.partner:
        query = query.where(messages.c.partner_id == flt.partner)
    if flt.document_type:
        query = query.where(messages.c.document_type == flt.document_type)
    if flt.direction:
        query = query.where(messages.c.direction == flt.direction)
    if flt.since:
        query = query.where(messages.c.received_at >= flt.since)
    if flt.until:
        query = query.where(messages.c.received_at < flt.until)
    if flt.business_key:
        key = flt.business_key
        query = query.where(
            messages.c.business_key.like(key.replace("*", "%")) if "*" in key else messages.c.business_key == key
        )
    if flt.correlation_id:
        query = query.where(messages.c.correlation_id == flt.correlation_id)
    if flt.error_code:
        query = query.where(messages.c.id.in_(select(errors.c.message_id).where(errors.c.code == flt.error_code)))
    if flt.roots_only:
        query = query.where(messages.c.parent_id.is_(None))
    return query


async def list_messages(conn: AsyncConnection, flt: MessageFilter) -> list[MessageSummary]:
    query = _filtered(flt).order_by(messages.c.received_at.desc(), messages.c.id.desc())
    rows = (await conn.execute(query.limit(flt.limit).offset(flt.offset))).mappings().all()
    return [_summary(r) for r in rows]


async def count_by_state(conn: AsyncConnection, flt: MessageFilter) -> dict[str, int]:
    sub = _filtered(flt).subquery()
    rows = (await conn.execute(select(sub.c.state, func.count()).group_by(sub.c.state))).all()
    return {state: int(n) for state, n in rows}


async def _resolve(conn: AsyncConnection, message_id: str) -> Any:
    """The row of ``message_id``, or of the one message whose id starts with it (at least 8 characters)."""
    row = (await conn.execute(select(messages).where(messages.c.id == message_id))).mappings().first()
    if row is None and len(message_id) >= 8:
        found = (await conn.execute(select(messages).where(messages.c.id.like(f"{message_id}%")).limit(2))).mappings()
        rows = found.all()
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        raise NotFoundError(
            f"no message {message_id!r} in the store", hint="list messages with `b2b-gateway messages list`"
        )
    return row


def _plain(rows: Any, *drop: str) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (timestamps in ISO 8601), without the ``drop`` columns."""
    return [
        {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items() if k not in drop} for r in rows
    ]


async def get_detail(conn: AsyncConnection, message_id: str) -> MessageDetail:
    row = await _resolve(conn, message_id)
    mid = row["id"]
    events = await conn.execute(
        select(audit_events).where(audit_events.c.message_id == mid).order_by(audit_events.c.id)
    )
    errs = await conn.execute(select(errors).where(errors.c.message_id == mid).order_by(errors.c.id))
    delivery = (outbox.c.state, outbox.c.attempts, outbox.c.last_error, outbox.c.endpoint, outbox.c.delivered_at)
    outs = await conn.execute(
        select(outputs, *delivery)
        .outerjoin(outbox, outbox.c.id == outputs.c.id)
        .where(outputs.c.message_id == mid)
        .order_by(outputs.c.created_at)
    )
    kids = await conn.execute(
        select(messages.c.id).where(messages.c.parent_id == mid).order_by(messages.c.received_at, messages.c.id)
    )
    sig = (await conn.execute(select(signatures).where(signatures.c.message_id == mid))).mappings().first()
    signature = None
    if sig:
        signature = {"kind": sig["kind"], "size": len(sig["signature"]), "created_at": sig["created_at"].isoformat()}
    return MessageDetail(
        summary=_summary(row),
        events=_plain(events.mappings().all(), "id", "message_id"),
        errors=_plain(errs.mappings().all(), "id", "message_id"),
        outputs=_plain(outs.mappings().all(), "message_id"),
        children=[k[0] for k in kids.all()],
        signature=signature,
    )


async def lineage(conn: AsyncConnection, message_id: str) -> list[MessageSummary]:
    row = await _resolve(conn, message_id)
    rows = (
        await conn.execute(
            select(messages)
            .where(or_(messages.c.root_id == row["root_id"], messages.c.id == row["root_id"]))
            .order_by(messages.c.parent_id.is_not(None), messages.c.received_at, messages.c.id)
        )
    ).mappings()
    return [_summary(r) for r in rows.all()]


async def payload(conn: AsyncConnection, sha256: str) -> bytes:
    row = (await conn.execute(select(payloads).where(payloads.c.sha256 == sha256))).mappings().first()
    if row is None:
        raise NotFoundError(f"no payload {sha256[:16]}… in the archive")
    return decompress(row["compression"], row["data"])


def _error(row: Any) -> GatewayError:
    return error_from_dict(
        {
            "type": row["type"],
            "code": row["code"],
            "message": row["message"],
            "severity": row["severity"],
            "location": row["location"] or {},
            "hint": row["hint"],
            "details": row["details"] or {},
        }
    )


async def _raw(conn: AsyncConnection, sha256: str) -> tuple[bytes, str | None, int]:
    """A stored input's bytes, or (for a big input kept as a file reference) ``b""`` and the file and its size."""
    row = (await conn.execute(select(payloads).where(payloads.c.sha256 == sha256))).mappings().first()
    if row is None:
        raise NotFoundError(f"no payload {sha256[:16]}… in the archive")
    if row["compression"] == "file":
        return b"", bytes(row["data"]).decode("utf-8"), int(row["size"])
    data = decompress(row["compression"], row["data"])
    return data, None, len(data)


async def load_message(conn: AsyncConnection, message_id: str, *, children: bool = True) -> Message:
    """The stored message (with its children unless told not to); a big input comes back with its ``path``."""
    row = await _resolve(conn, message_id)
    raw, path, size = await _raw(conn, row["raw_sha256"])
    msg = Message(
        raw=raw,
        path=path,
        file_size=size,
        direction=Direction(row["direction"]),
        channel=row["channel"],
        id=row["id"],
        correlation_id=row["correlation_id"],
        parent_id=row["parent_id"],
        partner_id=row["partner_id"],
        format=row["format"],
        document_type=row["document_type"],
        business_key=row["business_key"],
        interchange_ref=row["interchange_ref"],
        message_ref=row["message_ref"],
        test=bool(row["test"]),
        received_at=row["received_at"],
        metadata={str(k): str(v) for k, v in (row["meta"] or {}).items()},
        state=State(row["state"]),
        sha256=row["raw_sha256"],
    )
    if row["canonical_sha256"]:
        try:
            msg.canonical = document_from_data(json.loads(await payload(conn, row["canonical_sha256"])))
        except (GatewayError, ValueError):
            msg.canonical = None
    events = await conn.execute(
        select(audit_events).where(audit_events.c.message_id == msg.id).order_by(audit_events.c.id)
    )
    msg.events = [
        AuditEvent(stage=e.stage, outcome=e.outcome, detail=e.detail, at=e.at, actor=e.actor, data=dict(e.data or {}))
        for e in events.all()
    ]
    for err_row in (await conn.execute(select(errors).where(errors.c.message_id == msg.id))).mappings().all():
        (msg.warnings if err_row["run"].endswith(":w") else msg.errors).append(_error(err_row))
    if not children:
        return msg
    if not children:
        return msg
    kids = await conn.execute(
        select(messages.c.id).where(messages.c.parent_id == msg.id).order_by(messages.c.received_at, messages.c.id)
    )
    for (kid,) in kids.all():
        msg.children.append(await load_message(conn, kid))
    return msg
