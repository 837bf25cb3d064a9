"""Runs the stages over a message, records every step, and never loses a message on error.

* A :class:`~b2b_gateway.errors.GatewayError` stops the flow: the error is recorded, the message takes
  the matching final state (rejected, quarantined, parked, duplicate, failed) and is stored, so it
  can be inspected and replayed.
* A retryable (:class:`~b2b_gateway.errors.TransientError`) error is recorded and re-raised: the
  transport must not acknowledge the input, which comes back later.
* Any other exception is a bug; it is wrapped, recorded and stored like a failure.
* For an inbound root message, the acknowledger runs last (CONTRL, APERAK) whatever the outcome; an
  acknowledger with an async ``prepare(message, options)`` has it awaited first (to allocate the
  control references its sync ``acknowledge`` then uses). When the message reaches ``deliver`` and the
  deliverer saves what it delivers, the acknowledgments are built just before, so the document's
  outputs and its acknowledgments are saved and enqueued in one commit.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Sequence

from b2b_gateway.errors import (
    DocumentRejected,
    DuplicateDocumentError,
    GatewayError,
    PartnerError,
    RoutingError,
    SecurityError,
    TransientError,
)
from b2b_gateway.observability.logging import get_logger, message_context
from b2b_gateway.pipeline.context import PipelineContext
from b2b_gateway.pipeline.message import AuditEvent, Direction, Message, Output, State
from b2b_gateway.pipeline.stages import INBOUND, OUTBOUND, Stage, saved_by_deliverer

__all__ = ["KEEP_FAILED", "Pipeline", "failure_state"]

KEEP_FAILED = 1000
"""Children of a streamed input kept in ``children`` because they failed (to report them); the rest are counted."""

log = get_logger("b2b_gateway.pipeline")


def failure_state(error: GatewayError) -> State:
    """The final state a message takes when ``error`` stops it."""
    if isinstance(error, DuplicateDocumentError):
        return State.DUPLICATE
    if isinstance(error, SecurityError):
        return State.QUARANTINED
    if isinstance(error, RoutingError):
        return State.PARKED
    if isinstance(error, DocumentRejected | PartnerError) or error.ack.http in (400, 409, 413, 415, 422):
        return State.REJECTED
    return State.FAILED


class Pipeline:
    """The gateway's processing pipeline over one :class:`PipelineContext`.

    Example:
        >>> import asyncio
        >>> from b2b_gateway.pipeline import Message, Pipeline, PipelineContext
        >>> msg = asyncio.run(Pipeline(PipelineContext()).run(Message(raw=b'{"document_type": "x"}')))
        >>> msg.state.value, msg.errors[0].code
        ('rejected', 'UNKNOWN_DOCUMENT_TYPE')
    """

    def __init__(
        self,
        ctx: PipelineContext,
        *,
        inbound: Sequence[Stage] = INBOUND,
        outbound: Sequence[Stage] = OUTBOUND,
    ) -> None:
        self.ctx = ctx
        self.inbound = tuple(inbound)
        self.outbound = tuple(outbound)

    def stages_for(self, message: Message) -> tuple[Stage, ...]:
        return self.inbound if message.direction is Direction.INBOUND else self.outbound

    async def run(self, message: Message, *, stop_after: str | None = None) -> Message:
        """Run ``message`` through its stages (up to and including ``stop_after``) and return it.

        Raises:
            TransientError: a retryable failure; the caller keeps the input and tries again.
        """
        stages = self.stages_for(message)
        if stop_after is not None:
            names = [s.name for s in stages]
            stages = stages[: names.index(stop_after) + 1]
        root = message.direction is Direction.INBOUND and message.parent_id is None
        early = [False] if root and self.ctx.acknowledger is not None and saved_by_deliverer(self.ctx) else None
        await self._run_from(message, stages, 0, early)
        if root and not (early and early[0]):
            await self._acknowledge(message)
        return message

    async def _run_from(
        self, message: Message, stages: Sequence[Stage], start: int, early: list[bool] | None = None
    ) -> None:
        """``early`` (a root inbound message whose deliverer saves): its acknowledgments are built just
        before ``deliver``, which saves and enqueues them with the document's outputs (one commit);
        ``early[0]`` says it happened."""
        for index in range(start, len(stages)):
            stage = stages[index]
            acks: list[Output] = []
            if early is not None and stage.name == "deliver":
                acks, _ = await self._collect_acks(message)  # a failure is recorded; deliver saves it
                early[0] = True
            with message_context(
                message_id=message.id,
                correlation_id=message.correlation_id,
                partner=message.partner_id,
                stage=stage.name,
            ):
                before = len(message.events)
                try:
                    children = await stage(message, self.ctx)
                except TransientError as exc:
                    message.record(stage.name, "error", str(exc), code=exc.code, retryable=True)
                    log.warning("stage.retry", error=exc.code, detail=exc.message)
                    raise
                except GatewayError as exc:
                    self._withdraw(message, acks, early)
                    await self._fail(message, stage.name, exc)
                    return
                except Exception as exc:  # a bug: never lose the message over it
                    log.exception("stage.crash")
                    wrapped = GatewayError(f"internal error in stage {stage.name}: {type(exc).__name__}: {exc}")
                    self._withdraw(message, acks, early)
                    await self._fail(message, stage.name, wrapped)
                    return
                self._notify(message, before)
            if children is not None:
                if not await self._claim_before_split(message):
                    return
                if isinstance(children, list):
                    for child in children:
                        await self._run_from(child, stages, index + 1)
                else:
                    await self._run_stream(message, children, stages, index + 1)
                await self._save(message)
                return

    async def _run_stream(
        self, message: Message, children: Iterator[Message], stages: Sequence[Stage], start: int
    ) -> None:
        """The children of a streamed input, ``limits.stream_batch`` at a time (their saves commit together);
        each is settled into the parent's summary (its state counted, its findings kept for the CONTRL) and let go."""
        size = max(self.ctx.limits.stream_batch, 1)
        while batch := list(itertools.islice(children, size)):
            await asyncio.gather(*(self._run_from(child, stages, start) for child in batch))
            for child in batch:
                message.outcomes[child.state.value] = message.outcomes.get(child.state.value, 0) + 1
                if child.errors and len(message.children) < KEEP_FAILED:
                    message.children.append(child)  # to report (the CLI); the others are let go
                settle = getattr(message.unit, "settle", None)
                if callable(settle) and child.unit is not None:
                    settle(child.unit, [*child.errors, *child.warnings])
        message.metadata["children"] = str(message.child_count)
        message.metadata["outcomes"] = ",".join(f"{k}={v}" for k, v in sorted(message.outcomes.items()))

    async def _claim_before_split(self, message: Message) -> bool:
        """An input split into several documents: the duplicate keys whose claim was put off to the
        outbox save (one document, one commit) are claimed now, before any of them is delivered."""
        claim = getattr(self.ctx.store, "claim_deferred", None)
        if not callable(claim):
            return True
        try:
            await claim(message)
        except TransientError:
            raise
        except GatewayError as exc:
            await self._fail(message, "dedupe", exc)
            return False
        return True

    async def _fail(self, message: Message, stage: str, error: GatewayError) -> None:
        errors = error.errors if isinstance(error, DocumentRejected) else [error]
        message.errors.extend(errors)
        message.state = failure_state(error)
        before = len(message.events)
        message.record(
            stage,
            "error",
            error.message,
            code=error.code,
            errors=[e.to_dict() for e in errors],
            state=message.state.value,
        )
        self._notify(message, before)
        log.info("message.stopped", state=message.state.value, error=error.code, detail=error.message)
        await self._save(message)

    async def _save(self, message: Message) -> None:
        if self.ctx.store is not None:
            await self.ctx.store.save(message)

    @staticmethod
    def _withdraw(message: Message, acks: list[Output], early: list[bool] | None) -> None:
        """``deliver`` failed: the acknowledgments built for it were not enqueued; they are built again after."""
        if early is not None and early[0]:
            early[0] = False
            message.outputs = [o for o in message.outputs if all(o is not a for a in acks)]

    async def _collect_acks(self, message: Message) -> tuple[list[Output], bool]:
        """Build the acknowledgments ``message`` earns and add them to its outputs; (them, whether it failed)."""
        acknowledger = self.ctx.acknowledger
        if acknowledger is None:
            return [], False
        options = self.ctx.options(message.partner_id)
        try:
            prepare = getattr(acknowledger, "prepare", None)
            if callable(prepare):  # async work the sync build needs first (allocating control references)
                await prepare(message, options)
            acks = acknowledger.acknowledge(message, options)
        except GatewayError as exc:
            message.record("acknowledge", "error", str(exc), code=exc.code)
            return [], True
        if acks:
            message.outputs.extend(acks)
            message.record("acknowledge", "ok", ", ".join(a.format for a in acks), outputs=[a.id for a in acks])
        return acks, False

    async def _acknowledge(self, message: Message) -> None:
        if self.ctx.acknowledger is None:
            return
        acks, failed = await self._collect_acks(message)
        if failed:
            await self._save(message)
            return
        if acks:
            if not saved_by_deliverer(self.ctx):
                await self._save(message)
            if self.ctx.deliverer is not None:
                await self.ctx.deliverer.deliver(message)

    def _notify(self, message: Message, before: int) -> None:
        new: list[AuditEvent] = message.events[before:]
        for observer in self.ctx.observers:
            for event in new:
                observer(message, event)
