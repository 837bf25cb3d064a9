"""The REST API under ``/api/v1``: messages and actions, conversations, partners, certificates, queues, stats.

Every route needs authentication (a bearer token or a dashboard session); actions need the operator
role and are recorded in the message's audit trail with the caller's name.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response

from b2b_gateway.api.auth import Admin, Authenticator, Operator, Viewer
from b2b_gateway.api.ops import Operations, awaiting_dict, certificate_dict
from b2b_gateway.api.ports import Action, MessageQuery, MessageRecord, MessageRow
from b2b_gateway.api.views import message_detail, partner_view
from b2b_gateway.errors import NotFoundError
from b2b_gateway.pipeline.message import Direction, State

__all__ = ["api_router", "query_of"]


def query_of(
    state: State | None = None,
    partner: str | None = None,
    document_type: str | None = None,
    direction: Direction | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> MessageQuery:
    """A store query from request parameters (empty strings mean "any")."""
    return MessageQuery(
        state=state,
        partner=partner or None,
        document_type=document_type or None,
        direction=direction,
        since=since,
        until=until,
        text=(q or "").strip() or None,
        limit=max(1, min(limit, 500)),
        offset=max(0, offset),
    )


async def _get(ops: Operations, message_id: str) -> MessageRecord:
    record = await ops.message(message_id)
    if record is None:
        raise NotFoundError(f"no message {message_id!r}")
    return record


def api_router(ops: Operations, auth: Authenticator) -> APIRouter:
    """The ``/api/v1`` router over ``ops``, guarded by ``auth``."""
    router = APIRouter(prefix="/api/v1", tags=["operations"], dependencies=[Depends(auth.bind())])

    @router.get("/me", summary="Who the caller is")
    async def me(user: Viewer) -> dict[str, str]:
        return {"name": user.name, "role": user.role.value, "via": user.via}

    @router.get("/messages", summary="List messages, newest first, filtered")
    async def list_messages(
        user: Viewer,
        state: State | None = None,
        partner: str | None = None,
        document_type: str | None = None,
        direction: Direction | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        q: Annotated[str | None, Query(description="Business key (order or invoice number) or message id")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        query = query_of(state, partner, document_type, direction, since, until, q, limit, offset)
        page = await ops.list_messages(query)
        return {"total": page.total, "limit": query.limit, "offset": query.offset, "items": _summaries(page.items)}

    @router.get("/messages/{message_id}", summary="One message with lineage, payloads, errors and audit trail")
    async def show_message(message_id: str, user: Viewer) -> dict[str, Any]:
        record = await _get(ops, message_id)
        return message_detail(record, lineage=await ops.lineage(record.message.id))

    @router.get("/messages/{message_id}/raw", summary="The raw payload as received")
    async def raw_message(message_id: str, user: Viewer) -> Response:
        message = (await _get(ops, message_id)).message
        return Response(
            message.raw,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{message.id}.bin"'},
        )

    @router.get("/messages/{message_id}/lineage", summary="The message's family, root first")
    async def lineage(message_id: str, user: Viewer) -> list[dict[str, Any]]:
        record = await _get(ops, message_id)
        return _summaries(await ops.lineage(record.message.id))

    @router.post("/messages/{message_id}/{action}", summary="Retry, replay, cancel or release a message")
    async def act(
        message_id: str,
        action: Action,
        user: Operator,
        reason: Annotated[str, Body(embed=True, max_length=500)] = "",
    ) -> dict[str, Any]:
        row = await ops.act(action, message_id, actor=user.name, reason=reason)
        return row.to_dict()

    @router.get("/conversations/{business_key}", summary="Every document about one order or invoice number")
    async def conversation(business_key: str, user: Viewer) -> dict[str, Any]:
        items = await ops.conversation(business_key)
        awaiting = {a.message_id: a for a in await ops.awaiting()}
        timeline = []
        for m in items:
            entry = m.to_dict()
            entry["awaiting_ack"] = awaiting_dict(awaiting[m.id]) if m.id in awaiting else None
            timeline.append(entry)
        return {"business_key": business_key, "timeline": timeline}

    @router.get("/orders/{number}/timeline", summary="One order's conversation: documents, milestones, acknowledgments")
    async def order_timeline(number: str, user: Viewer) -> dict[str, Any]:
        return await ops.timeline(number, "order")

    @router.get("/invoices/{number}/timeline", summary="An invoice and the responses to it, in order")
    async def invoice_timeline(number: str, user: Viewer) -> dict[str, Any]:
        return await ops.timeline(number, "invoice")

    @router.get("/acknowledgments/awaiting", summary="Documents sent whose acknowledgment has not come")
    async def awaiting(user: Viewer) -> list[dict[str, Any]]:
        now = dt.datetime.now(dt.UTC)
        return [{**awaiting_dict(a), "overdue": a.overdue(now)} for a in await ops.awaiting()]

    @router.get("/partners", summary="The configured partners")
    async def partners(user: Viewer) -> list[dict[str, Any]]:
        return [
            {"id": p.id, "name": p.name, "mode": p.mode, "channels": [c.kind for c in p.channels]}
            for p in sorted(ops.partners, key=lambda p: p.id)
        ]

    @router.get("/partners/{partner_id}", summary="A partner's profile and recent traffic")
    async def partner(partner_id: str, user: Viewer) -> dict[str, Any]:
        profile = ops.partners.get(partner_id)
        if profile is None:
            raise NotFoundError(f"no partner {partner_id!r}")
        page = await ops.list_messages(MessageQuery(partner=partner_id, limit=20))
        awaiting = [awaiting_dict(a) for a in await ops.awaiting() if a.partner == partner_id]
        return {"profile": partner_view(profile), "recent": _summaries(page.items), "awaiting_ack": awaiting}

    @router.get("/certificates", summary="Certificates, soonest to expire first")
    async def certificates(user: Viewer) -> list[dict[str, Any]]:
        now = dt.datetime.now(dt.UTC)
        return [certificate_dict(c, now) for c in ops.certificates()]

    @router.get("/queues", summary="Queue depths")
    async def queues(user: Viewer) -> list[dict[str, Any]]:
        return [
            {"name": q.name, "messages": q.messages, "consumers": q.consumers, "dead_letter": q.dead_letter}
            for q in await ops.queue_depths()
        ]

    @router.get("/stats", summary="Throughput, states, queues, dead letters, overdue acknowledgments, certificates")
    async def stats(user: Viewer, hours: Annotated[int, Query(ge=1, le=24 * 31)] = 24) -> dict[str, Any]:
        return (await ops.overview(hours=hours)).to_dict()

    @router.get("/users", summary="Dashboard users (admin only)")
    async def users(user: Admin) -> list[dict[str, str | bool]]:
        return [u.public() for u in auth.users.list()]

    return router


def _summaries(rows: list[MessageRow]) -> list[dict[str, Any]]:
    return [row.to_dict() for row in rows]
