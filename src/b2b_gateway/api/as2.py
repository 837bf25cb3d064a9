"""The AS2 receive endpoint: ``POST /as2`` (messages) and ``POST /as2/mdn`` (asynchronous MDNs).

The sans-IO :class:`~b2b_gateway.as2.inbound.As2Receiver` does the protocol; this router reads the
request, hands an accepted payload to ``on_payload`` (the runtime feeds the pipeline), and answers
with the synchronous MDN or posts the asynchronous one. ``on_payload`` refuses a payload by raising a
:class:`~b2b_gateway.errors.GatewayError` (its ``ack.mdn`` becomes the disposition); a
:class:`~b2b_gateway.errors.TransientError` answers 503 without an MDN, so the partner sends again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, BackgroundTasks, Request, Response
from starlette.concurrency import run_in_threadpool

from b2b_gateway.as2.inbound import As2Receiver, Inbound
from b2b_gateway.as2.mdn import Mdn, MdnReceipt
from b2b_gateway.as2.mime import Headers
from b2b_gateway.errors import GatewayError, TransientError
from b2b_gateway.observability.logging import get_logger
from b2b_gateway.transport.as2 import post_mdn

__all__ = ["MdnHandler", "PayloadHandler", "as2_router"]

log = get_logger("b2b_gateway.as2")

PayloadHandler = Callable[[Inbound], Awaitable[None]]
"""Takes an accepted payload (``inbound.payload``, ``inbound.metadata()``); raises to refuse it."""
MdnHandler = Callable[[Headers, bytes], Awaitable[MdnReceipt]]
"""Takes an asynchronous MDN a partner posted back (e.g. :meth:`~b2b_gateway.transport.as2.As2Sender.receive_mdn`)."""
Remember = Callable[[str, str], None]
MdnPoster = Callable[[Mdn], Awaitable[int]]


def _is_mdn(headers: Headers, body: bytes) -> bool:
    """An MDN posted back to us (multipart/report, or a signed one) rather than a message."""
    content_type = headers.get("Content-Type").lower()
    if "disposition-notification" in content_type:
        return True
    return "multipart/signed" in content_type and b"report-type=disposition-notification" in body[:4096]


def as2_router(
    receiver: As2Receiver,
    on_payload: PayloadHandler,
    *,
    path: str = "/as2",
    remember: Remember | None = None,
    on_mdn: MdnHandler | None = None,
    send_mdn: MdnPoster = post_mdn,
) -> APIRouter:
    """The AS2 endpoint as a FastAPI router.

    Args:
        receiver: the protocol core (partner lookup and duplicate check inside).
        on_payload: gets each accepted payload.
        path: where partners POST (asynchronous MDNs go to ``path + "/mdn"``, or to ``path`` itself).
        remember: records (partner, Message-ID) once a payload is accepted (duplicate detection).
        on_mdn: handles asynchronous MDNs for messages we sent.
        send_mdn: posts an asynchronous MDN (default: HTTP POST to the Receipt-Delivery-Option URL).
    """
    router = APIRouter(tags=["as2"])

    async def handle_mdn(headers: Headers, body: bytes) -> Response:
        if on_mdn is None:
            return Response("no MDN expected here\n", status_code=404, media_type="text/plain")
        try:
            receipt = await on_mdn(headers, body)
        except GatewayError as exc:
            log.warning("as2.mdn_refused", error=exc.code, detail=exc.message)
            return Response(f"[{exc.code}] {exc.message}\n", status_code=exc.ack.http, media_type="text/plain")
        return Response(f"MDN recorded: {receipt.disposition}\n", media_type="text/plain")

    async def deliver_async(mdn: Mdn) -> None:
        try:
            await send_mdn(mdn)
        except GatewayError as exc:
            log.warning("as2.mdn_not_posted", error=exc.code, detail=exc.message, url=mdn.async_url)

    @router.post(path + "/mdn", summary="An asynchronous MDN for a message the gateway sent")
    async def receive_mdn(request: Request) -> Response:
        return await handle_mdn(Headers(request.headers.items()), await request.body())

    @router.post(path, summary="An AS2 message (RFC 4130); answered with an MDN when one is asked for")
    async def receive(request: Request, background: BackgroundTasks) -> Response:
        body = await request.body()
        headers = Headers(request.headers.items())
        if _is_mdn(headers, body):
            return await handle_mdn(headers, body)
        inbound = await run_in_threadpool(receiver.receive, headers, body)
        error = inbound.error
        if inbound.ok:
            try:
                await on_payload(inbound)
            except TransientError as exc:
                log.warning("as2.retry_later", error=exc.code, message_id=inbound.message_id)
                return Response("temporarily unavailable, send again later\n", status_code=503)
            except GatewayError as exc:
                error = exc
            else:
                if remember is not None and inbound.party is not None:
                    remember(inbound.party.partner_id, inbound.message_id)
        log.info(
            "as2.received",
            message_id=inbound.message_id,
            as2_from=inbound.as2_from,
            partner=inbound.party.partner_id if inbound.party else None,
            outcome=error.code if error else "processed",
            signed=inbound.signed,
            encrypted=inbound.encrypted,
            headers=headers.to_dict(),
        )
        mdn = receiver.mdn(inbound, error)
        if mdn is None:
            status = 200 if error is None or inbound.duplicate else error.ack.http
            text = "processed" if error is None else f"[{error.code}] {error.message}"
            return Response(text + "\n", status_code=status, media_type="text/plain")
        if mdn.async_url:
            background.add_task(deliver_async, mdn)
            return Response(f"the MDN will be posted to {mdn.async_url}\n", media_type="text/plain")
        return Response(
            mdn.body,
            headers={k: v for k, v in mdn.headers.items() if k.lower() != "content-type"},
            media_type=mdn.headers.get("Content-Type"),
        )

    return router
