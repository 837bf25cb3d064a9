"""``POST /api/v1/documents``: a partner (or any system) posts one document; the answer says what became of it.

Authenticated by a bearer token (from the settings or a token file; a token may speak for one
partner only), in the ``Authorization`` header or, for partner software that can only be given a URL
(a webhook, a Peppol test access point), as the ``token`` query parameter. The document runs through the
pipeline before the answer is sent, so the answer is
the outcome: ``200`` with the message id and state when accepted, the acknowledgment's HTTP status
when rejected (``422`` invalid, ``409`` duplicate, ``403`` unknown partner, ``413`` too large …) with
every error, ``503`` with ``Retry-After`` when the store is unavailable. Posting again with the same
``Idempotency-Key`` is safe: it is the same message.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from b2b_gateway.errors import AuthenticationError, GatewayError, InputTooLargeError, TransientError
from b2b_gateway.observability.tracing import trace_context
from b2b_gateway.pipeline.message import Message

__all__ = ["InboundRequest", "TokenSet", "inbound_router"]


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """A posted document: its bytes and what the caller said about it."""

    body: bytes
    idempotency_key: str | None = None
    partner: str | None = None
    content_type: str = "application/octet-stream"
    filename: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TokenSet:
    """Accepted bearer tokens; a token mapped to a partner id may only post as that partner."""

    tokens: dict[str, str | None] = field(default_factory=dict)

    def check(self, authorization: str | None) -> tuple[bool, str | None]:
        """(accepted, partner the token speaks for)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return False, None
        offered = authorization[7:].strip().encode()
        found: tuple[bool, str | None] = (False, None)
        for token, partner in self.tokens.items():  # compare with every token: no early exit, no timing hint
            if hmac.compare_digest(offered, token.encode()):
                found = (True, partner)
        return found


Submit = Callable[[InboundRequest], Awaitable[Message]]


def _error_response(error: GatewayError, status: int | None = None, **extra: object) -> JSONResponse:
    headers = {"Retry-After": "30"} if isinstance(error, TransientError) else None
    body = {"error": error.to_dict(), **extra}
    return JSONResponse(body, status_code=status or error.ack.http, headers=headers)


def _outcome(message: Message) -> JSONResponse:
    members = [message, *message.children]
    errors = [e for m in members for e in m.errors if e.severity == "error"]
    body = {
        "id": message.id,
        "state": message.state.value,
        "document_type": message.document_type,
        "business_key": message.business_key,
        "partner": message.partner_id,
        "messages": [{"id": c.id, "state": c.state.value, "business_key": c.business_key} for c in message.children],
        "errors": [e.to_dict() for m in members for e in m.errors],
        "warnings": [w.to_dict() for m in members for w in m.warnings],
    }
    return JSONResponse(body, status_code=errors[0].ack.http if errors else 200)


def inbound_router(submit: Submit, tokens: TokenSet, *, max_bytes: int, prefix: str = "/api/v1") -> APIRouter:
    """The inbound document endpoint as a router for :func:`b2b_gateway.api.create_app`."""
    router = APIRouter(prefix=prefix, tags=["documents"])

    @router.post("/documents", summary="Post a document", status_code=200)
    async def post_document(request: Request) -> JSONResponse:
        """Run one document through the gateway and answer with its outcome."""
        authorization = request.headers.get("authorization")
        if authorization is None and request.query_params.get("token"):
            authorization = f"Bearer {request.query_params['token']}"  # for software that cannot set headers
        ok, speaks_for = tokens.check(authorization)
        if not ok:
            err = AuthenticationError("a valid bearer token is required", hint="send Authorization: Bearer <token>")
            return JSONResponse({"error": err.to_dict()}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        partner = request.headers.get("x-b2b-partner") or speaks_for
        if speaks_for and partner != speaks_for:
            err = AuthenticationError(f"this token may only post documents of partner {speaks_for}")
            return JSONResponse({"error": err.to_dict()}, status_code=403)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            return _error_response(InputTooLargeError(f"document of {declared} bytes is over {max_bytes} bytes"))
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_bytes:
                return _error_response(InputTooLargeError(f"document is over the limit of {max_bytes} bytes"))
        inbound = InboundRequest(
            body=bytes(body),
            idempotency_key=request.headers.get("idempotency-key") or request.headers.get("x-message-id"),
            partner=partner,
            content_type=request.headers.get("content-type", "application/octet-stream"),
            filename=request.headers.get("x-b2b-filename"),
            metadata=trace_context(request.headers),  # kept only with tracing on
        )
        try:
            message = await submit(inbound)
        except GatewayError as exc:
            return _error_response(exc)
        return _outcome(message)

    return router
