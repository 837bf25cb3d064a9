"""The pipeline's stages: plain functions of (message, context).

Each stage does one thing, moves the message to its next state and appends one audit event. A stage
fails by raising a :class:`~b2b_gateway.errors.GatewayError`; the runner records it and stores the
message, so nothing is lost. ``decode`` may split an interchange: it then returns the child
messages, and the runner continues the remaining stages on each child.

Inbound:  receive → identify → verify → decode → validate → map → check → sign → store → route → deliver
Outbound: receive → identify → decode → validate → map → check → render → sign → store → route → deliver
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from b2b_gateway.canonical.rules import DEFAULT_RULESETS, check_business_rules
from b2b_gateway.errors import (
    DocumentRejected,
    InputTooLargeError,
    Location,
    MissingError,
    UnknownPartnerError,
    UnroutableError,
)
from b2b_gateway.mapping.canonical_json import CanonicalJsonCodec
from b2b_gateway.mapping.codec import DocumentCodec, StreamingCodec, UnitStream
from b2b_gateway.observability.tracing import outgoing_trace
from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.pipeline.message import Direction, Message, Output, State

__all__ = ["INBOUND", "OUTBOUND", "Stage", "StageResult", "saved_by_deliverer"]

StageResult = list[Message] | Iterator[Message] | None
StageFn = Callable[[Message, PipelineContext], StageResult | Awaitable[StageResult]]


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    fn: StageFn

    async def __call__(self, message: Message, ctx: PipelineContext) -> StageResult:
        result = self.fn(message, ctx)
        if inspect.isawaitable(result):
            return await result
        return result


def saved_by_deliverer(ctx: PipelineContext) -> bool:
    """Whether the deliverer saves what it delivers (see :class:`~b2b_gateway.pipeline.ports.Deliverer`)."""
    return ctx.deliverer is not None and bool(getattr(ctx.deliverer, "saves_message", False))


def _codec(message: Message, ctx: PipelineContext) -> DocumentCodec:
    if message.format:
        return ctx.codecs.get(message.format)
    codec = ctx.codecs.detect(message.head() if message.path is not None else message.raw)
    message.format = codec.name
    return codec


def receive(message: Message, ctx: PipelineContext) -> None:
    streamed = message.path is not None
    limit = ctx.limits.max_stream_bytes if streamed else ctx.limits.max_document_bytes
    if message.size > limit:
        setting = "limits.max_stream_bytes" if streamed else "limits.max_document_bytes"
        raise InputTooLargeError(
            f"{'file' if streamed else 'document'} of {message.size} bytes is over the limit of {limit} bytes",
            location=Location(offset=limit, field="size"),
            hint=f"raise {setting} if this partner really sends such documents",
            details={"size": message.size, "limit": limit, "setting": setting},
        )
    message.state = State.RECEIVED
    how = f"streamed from {message.path}" if streamed else f"via {message.channel}"
    message.record("receive", "ok", f"{message.size} bytes {how}", sha256=message.sha256)


def identify(message: Message, ctx: PipelineContext) -> None:
    codec = _codec(message, ctx)
    env = codec.envelope(message.head() if message.path is not None else message.raw, ctx.options(message.partner_id))
    message.interchange_ref = message.interchange_ref or env.interchange_ref
    message.test = message.test or env.test
    if env.document_type:
        message.document_type = env.document_type
    if message.partner_id is None:
        hint_id = message.metadata.get("partner")
        candidates = [hint_id] if hint_id else []
        if message.direction is Direction.INBOUND and env.sender:
            candidates.append(env.sender)
        if message.direction is Direction.OUTBOUND and env.recipient:
            candidates.append(env.recipient)
        for value in candidates:
            found = ctx.partners.find(value, env.sender_qualifier if value == env.sender else None)
            if found is not None:
                message.partner_id = found.id
                break
        if message.partner_id is None and (ctx.require_known_partner or hint_id):
            who = hint_id or env.sender or "(no sender in the document)"
            raise UnknownPartnerError(
                f"no partner profile matches {who!r}",
                location=Location(field="sender"),
                hint="add the partner under mappings/<partner>/ or check the UNB/header identifiers",
            )
    message.state = State.IDENTIFIED
    message.record(
        "identify",
        "ok",
        f"format {message.format}, partner {message.partner_id or 'unknown'}",
        sender=env.sender,
        recipient=env.recipient,
        interchange_ref=env.interchange_ref,
    )


def verify(message: Message, ctx: PipelineContext) -> None:
    if ctx.verifier is None:
        message.record("verify", "info", "no signature policy configured")
        return
    ctx.verifier.verify(message, partner=ctx.partner(message.partner_id))
    message.state = State.VERIFIED
    message.record("verify", "ok", "signature and policy checked")


def decode(message: Message, ctx: PipelineContext) -> StageResult:
    codec = _codec(message, ctx)
    if message.path is not None:
        return _decode_stream(message, codec, ctx)
    units = codec.split(message.raw, ctx.options(message.partner_id))
    warnings = [w for u in units for w in u.warnings]
    message.warnings.extend(warnings)
    if len(units) == 1 and units[0].raw is None:
        unit = units[0]
        message.unit = unit
        message.document_type = unit.document_type
        message.message_ref = unit.ref
        message.state = State.DECODED
        message.record("decode", "warning" if warnings else "ok", f"one {unit.document_type} document")
        return None
    kids = []
    for unit in units:
        assert unit.raw is not None
        kid = message.child(unit.raw, document_type=unit.document_type, message_ref=unit.ref)
        kid.unit = unit
        kid.warnings.extend(unit.warnings)
        kid.state = State.DECODED
        kid.record("decode", "ok", f"{unit.document_type} {unit.ref or ''} split from {message.id}".strip())
        kids.append(kid)
    message.state = State.SPLIT
    message.record("decode", "warning" if warnings else "ok", f"{len(kids)} message(s)", children=[k.id for k in kids])
    return kids


def _decode_stream(message: Message, codec: DocumentCodec, ctx: PipelineContext) -> Iterator[Message]:
    """A big input: read it once to check its envelope (all or nothing, as for a small one), then again
    as a stream of children that the runner takes through the other stages a batch at a time."""
    if not isinstance(codec, StreamingCodec):
        raise InputTooLargeError(
            f"{codec.name} documents of {message.size} bytes cannot be read as a stream",
            location=Location(offset=ctx.limits.stream_threshold_bytes, field="size"),
            hint="limits.stream_threshold_bytes: only EDIFACT interchanges are read as a stream",
        )
    options = ctx.options(message.partner_id)
    check = codec.stream_split(message.chunks(), options)
    for unit in check:  # each message again when the children are made; here only a stub for a CONTRL
        check.settle(unit, [])
    findings = check.findings()
    if any(e.severity == "error" for e in findings) or not check.messages:
        message.unit = check  # what the acknowledgment of the rejected interchange answers
        raise DocumentRejected(
            findings or [MissingError("the interchange holds no message", location=Location(segment="UNH"))]
        )
    units = codec.stream_split(message.chunks(), options)
    message.unit = units
    message.warnings.extend(w for w in findings if w.severity == "warning")
    message.state = State.SPLIT
    message.record("decode", "ok", f"{check.messages} message(s), read as a stream", streamed=check.messages)
    return _stream_children(message, units)


def _stream_children(message: Message, units: UnitStream) -> Iterator[Message]:
    for unit in units:
        assert unit.raw is not None
        kid = message.child(unit.raw, keep=False, document_type=unit.document_type, message_ref=unit.ref)
        kid.unit = unit
        kid.warnings.extend(unit.warnings)
        kid.state = State.DECODED
        kid.record("decode", "ok", f"{unit.document_type} {unit.ref or ''} split from {message.id}".strip())
        yield kid


def validate(message: Message, ctx: PipelineContext) -> None:
    codec = ctx.codecs.get(message.format or "")
    findings = codec.validate(message.unit, ctx.options(message.partner_id))
    errors = [f for f in findings if f.severity == "error"]
    message.warnings.extend(f for f in findings if f.severity == "warning")
    if errors:
        raise DocumentRejected(errors)
    message.state = State.VALIDATED
    message.record("validate", "warning" if findings else "ok", f"{len(findings)} warning(s)" if findings else "")


def map_to_canonical(message: Message, ctx: PipelineContext) -> None:
    codec = ctx.codecs.get(message.format or "")
    document = codec.to_canonical(message.unit, ctx.options(message.partner_id))
    message.canonical = document
    message.document_type = document.document_type
    message.business_key = document.business_key
    message.test = message.test or document.test
    message.state = State.MAPPED
    message.record("map", "ok", f"{document.document_type} {document.business_key}")


def check(message: Message, ctx: PipelineContext) -> None:
    assert message.canonical is not None
    partner = ctx.partner(message.partner_id)
    rulesets = partner.business_rules if partner else DEFAULT_RULESETS
    findings = check_business_rules(message.canonical, rulesets=rulesets)
    locate = getattr(ctx.codecs.get(message.format or ""), "locate", None)
    if findings and callable(locate):
        locate(findings, message.unit)
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning"]
    message.warnings.extend(warnings)
    if errors:
        raise DocumentRejected(errors + warnings)
    message.state = State.CHECKED
    message.record(
        "check",
        "warning" if warnings else "ok",
        f"rule sets: {', '.join(rulesets)}",
        warnings=[w.to_dict() for w in warnings],
    )


async def render(message: Message, ctx: PipelineContext) -> None:
    """Outbound: render the canonical document in the partner's format and check it with our own validator."""
    assert message.canonical is not None
    partner = ctx.partner(message.partner_id)
    fmt = partner.outbound_format(message.canonical.document_type) if partner else "canonical-json"
    codec = ctx.codecs.get(fmt)
    refs = await ctx.references(codec.name, codec.counters, message.partner_id)
    options = ctx.options(message.partner_id, refs)
    payload = codec.from_canonical(message.canonical, options)
    problems = [e for unit in codec.split(payload, options) for e in codec.validate(unit, options)]
    errors = [e for e in problems if e.severity == "error"]
    if errors:
        raise DocumentRejected(errors, message=f"the rendered {fmt} document fails validation: {errors[0].message}")
    destination = partner.destination(message.canonical.document_type) if partner else f"partner:{message.partner_id}"
    message.outputs.append(Output(destination=destination, payload=payload, format=fmt, kind="document"))
    # What the partner's acknowledgment will name (UNB 0020, UNH 0062): kept to match it later.
    message.interchange_ref = refs.get("interchange", message.interchange_ref)
    message.message_ref = refs.get("message", message.message_ref)
    message.state = State.RENDERED
    message.record("render", "ok", f"{fmt}, {len(payload)} bytes", references=refs)


def sign(message: Message, ctx: PipelineContext) -> None:
    if ctx.signer is None or message.canonical is None:
        message.record("sign", "info", "no signing key configured")
        return
    message.signature = ctx.signer.sign(message.canonical_json(), partner=ctx.partner(message.partner_id))
    message.state = State.SIGNED
    message.record("sign", "ok", f"detached CMS signature, {len(message.signature)} bytes")


async def store(message: Message, ctx: PipelineContext) -> None:
    if ctx.store is None:
        message.record("store", "info", "no store configured (dry run)")
        return
    message.state = State.STORED
    message.record("store", "ok")
    if not saved_by_deliverer(ctx):
        await ctx.store.save(message)
    # Else ``deliver`` commits the message (this event included) with its outbox entries in one
    # transaction, and a failure on the way is saved by the runner: the input is acknowledged after either.


async def route(message: Message, ctx: PipelineContext) -> None:
    if ctx.router is None:
        message.record("route", "info", "no router configured (dry run)")
        return
    assert message.canonical is not None
    destinations = ctx.router.route(message)
    if not destinations:
        raise UnroutableError(
            f"no routing rule matches {message.document_type} from {message.partner_id or 'an unknown partner'}",
            hint="add a rule to the routing file, then replay the message",
        )
    rendered = {(o.destination, o.format): o for o in message.outputs if o.kind == "document"}
    for dest in destinations:
        existing = rendered.get((dest.name, dest.format))
        if existing is not None:
            existing.headers.update(dest.headers)
            continue
        codec = ctx.codecs.get(dest.format)
        target = dest.partner_id or message.partner_id
        refs = await ctx.references(codec.name, codec.counters, target)
        if isinstance(codec, CanonicalJsonCodec):  # the very bytes signed and stored (made once)
            payload = message.canonical_json()
        else:
            payload = codec.from_canonical(message.canonical, ctx.options(target, refs))
        message.outputs.append(
            Output(destination=dest.name, payload=payload, format=dest.format, headers=dict(dest.headers))
        )
    for out in message.outputs:  # with tracing on, each output continues the document's trace (stored with it)
        out.headers.update(outgoing_trace(message.metadata, out.id))
    message.state = State.ROUTED
    message.record("route", "ok", ", ".join(d.name for d in destinations), destinations=[d.name for d in destinations])
    if ctx.store is not None and not saved_by_deliverer(ctx):  # else saved by ``deliver``, see ``store``
        await ctx.store.save(message)


async def deliver(message: Message, ctx: PipelineContext) -> None:
    if ctx.deliverer is None:
        message.record("deliver", "info", "no deliverer configured (dry run)")
        return
    await ctx.deliverer.deliver(message)


_IN = [
    Stage("receive", receive),
    Stage("identify", identify),
    Stage("verify", verify),
    Stage("decode", decode),
    Stage("validate", validate),
    Stage("map", map_to_canonical),
    Stage("check", check),
    Stage("sign", sign),
    Stage("store", store),
    Stage("route", route),
    Stage("deliver", deliver),
]
INBOUND: tuple[Stage, ...] = tuple(_IN)
OUTBOUND: tuple[Stage, ...] = tuple(
    s for s in [*_IN[:2], *_IN[3:7], Stage("render", render), *_IN[7:]] if s.name != "verify"
)
