"""The conversation API: one order's (or invoice's) documents in order, and what awaits acknowledgment.

``GET /api/v1/orders/{number}/timeline`` and ``GET /api/v1/invoices/{number}/timeline`` answer with
:meth:`~b2b_gateway.runtime.conversations.Conversations.timeline`: each document (sent or received) with
its milestone (ordered, acknowledged, confirmed, shipped, invoiced …), its state, and what the partner
said about it; ``GET /api/v1/acknowledgments/awaiting`` lists the documents still waiting for their
acknowledgment, the overdue ones flagged. Authenticated by the API token (``Authorization: Bearer``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from b2b_gateway.errors import AuthenticationError, BrokerUnavailableError
from b2b_gateway.pipeline.message import utcnow
from b2b_gateway.runtime.conversations import Conversations
from b2b_gateway.transport.http.inbound import TokenSet

__all__ = ["conversations_router"]


def conversations_router(conversations: Callable[[], Conversations | None], tokens: TokenSet) -> APIRouter:
    """The router; ``conversations`` gives the running gateway's :class:`Conversations` (``None`` before start)."""
    router = APIRouter(prefix="/api/v1", tags=["conversations"])

    def _check(request: Request) -> JSONResponse | Conversations:
        ok, _ = tokens.check(request.headers.get("authorization"))
        if not ok:
            err = AuthenticationError("a valid API token is required", hint="send Authorization: Bearer <token>")
            return JSONResponse({"error": err.to_dict()}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        found = conversations()
        if found is None:
            err503 = BrokerUnavailableError("the gateway is not started")
            return JSONResponse({"error": err503.to_dict()}, status_code=503)
        return found

    async def _timeline(request: Request, kind: str, number: str) -> Any:
        checked = _check(request)
        if isinstance(checked, JSONResponse):
            return checked
        return await checked.timeline(number, kind)

    @router.get("/orders/{number}/timeline", summary="Every document about one purchase order, in order")
    async def order_timeline(number: str, request: Request) -> Any:
        return await _timeline(request, "order", number)

    @router.get("/invoices/{number}/timeline", summary="An invoice and the responses to it, in order")
    async def invoice_timeline(number: str, request: Request) -> Any:
        return await _timeline(request, "invoice", number)

    @router.get("/acknowledgments/awaiting", summary="Documents sent and not acknowledged yet")
    async def awaiting(request: Request) -> Any:
        checked = _check(request)
        if isinstance(checked, JSONResponse):
            return checked
        now = utcnow()
        return [{**a.to_dict(), "overdue": a.overdue(now)} for a in await checked.awaiting()]

    return router
