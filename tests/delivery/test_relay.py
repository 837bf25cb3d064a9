"""The outbox relay: backoff with jitter, per-partner attempts, circuit breakers, dead letters, attempts audited."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest

from b2b_gateway.errors import DeliveryRefusedError, EndpointUnavailableError
from b2b_gateway.partners import Channel, PartnerDirectory, PartnerProfile, RetryPolicy
from b2b_gateway.pipeline import Message, Output, State
from b2b_gateway.runtime.delivery import CircuitBreaker, EndpointResolver, SenderRegistry, backoff_delay
from b2b_gateway.runtime.relay import OutboxRelay
from b2b_gateway.settings import DeliverySettings
from b2b_gateway.store import MessageRepository, OutboxItem
from b2b_gateway.transport import OutboundRequest
from tests.delivery.conftest import order, settings_for

FAST = RetryPolicy(max_attempts=3, initial_delay_s=0.01, max_delay_s=0.02)
PARTNERS = PartnerDirectory(
    [
        PartnerProfile(id="ACME", retry=FAST, channels=[Channel(kind="http", url="http://acme.invalid/in")]),
        PartnerProfile(id="NOCHANNEL", retry=FAST),
    ]
)


class Scripted:
    """A sender answering from a script of outcomes ('ok', 'down', 'refuse'), then 'ok'."""

    def __init__(self, *script: str) -> None:
        self.script = list(script)
        self.calls: list[OutboundRequest] = []

    async def send(self, request: OutboundRequest) -> str:
        self.calls.append(request)
        step = self.script.pop(0) if self.script else "ok"
        if step == "down":
            raise EndpointUnavailableError("HTTP 500")
        if step == "refuse":
            raise DeliveryRefusedError("HTTP 400: bad document")
        return "HTTP 200"


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[MessageRepository]:
    # outcomes written at once: these tests step the relay with breakers cooling down in 50 ms
    r = await MessageRepository.open(settings_for(tmp_path, store={"outcome_linger_ms": 0}))
    yield r
    await r.close()


def _relay(repo: MessageRepository, sender: Scripted, *, threshold: int = 50) -> tuple[OutboxRelay, list[str]]:
    senders = SenderRegistry()
    senders.register("http", sender)
    dead: list[str] = []

    async def on_dead(item: OutboxItem, reason: str) -> None:
        dead.append(reason)

    settings = DeliverySettings(poll_interval_s=0.01, breaker_threshold=threshold, breaker_cooldown_s=0.05)
    resolver = EndpointResolver(lambda: PARTNERS, erp_exchange="b2b.erp")
    return OutboxRelay(repo, resolver, senders, settings, owner="test", dead_letter=on_dead), dead


async def _enqueue(repo: MessageRepository, relay: OutboxRelay, destination: str = "partner:ACME") -> Message:
    m = Message(raw=order("PO-1"), channel="test", partner_id="ACME", document_type="order", business_key="PO-1")
    m.record("receive", "ok")
    m.state = State.ROUTED
    m.outputs.append(Output(destination=destination, payload=b'{"order": 1}', format="canonical-json"))
    await relay.submit((await repo.save_and_enqueue(m, owner="test", lease_s=30)).items)
    return m


async def _settle(relay: OutboxRelay, repo: MessageRepository) -> None:
    for _ in range(500):
        await relay.drain()
        if (await repo.outbox_counts())["pending"] == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox did not settle")


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(initial_delay_s=1, max_delay_s=30)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (5, 16), (9, 30)]:
        values = [backoff_delay(attempt, policy, rng) for _ in range(50)]
        assert all(ceiling / 2 <= v <= ceiling for v in values) and len(set(values)) > 1


def test_circuit_breaker_opens_probes_and_closes() -> None:
    now = [0.0]
    b = CircuitBreaker(threshold=3, cooldown_s=10, clock=lambda: now[0])
    for _ in range(3):
        assert b.allow()
        b.failure()
    assert b.is_open and not b.allow()
    now[0] = 11
    assert b.allow() and not b.allow()  # one probe at a time
    b.failure()
    assert b.is_open and not b.allow()
    now[0] = 22
    assert b.allow()
    b.success()
    assert not b.is_open and b.allow()


async def test_delivered_first_time_with_the_idempotency_key(repo: MessageRepository) -> None:
    sender = Scripted()
    relay, _ = _relay(repo, sender)
    m = await _enqueue(repo, relay)
    await _settle(relay, repo)
    (call,) = sender.calls
    assert (
        call.endpoint.address == "http://acme.invalid/in"
        and call.standard_headers()["idempotency-key"] == call.idempotency_key
    )
    detail = await repo.get(m.id)
    assert detail.summary.state == "delivered" and detail.outputs[0]["state"] == "delivered"
    assert [e["detail"] for e in detail.events if e["stage"] == "deliver"][-1].endswith("attempt 1: HTTP 200")


async def test_transient_failures_are_retried_then_delivered(repo: MessageRepository) -> None:
    relay, _ = _relay(repo, Scripted("down", "down"))
    seen: list[str] = []
    relay.observers.append(lambda outcome: seen.append(outcome.verdict))
    m = await _enqueue(repo, relay)
    await _settle(relay, repo)
    detail = await repo.get(m.id)
    attempts = [
        e for e in detail.events if e["stage"] == "deliver" and e["actor"] == "gateway" and "attempt" in e["detail"]
    ]
    assert [e["outcome"] for e in attempts] == ["error", "error", "ok"]
    assert seen == ["retry", "retry", "delivered"]
    assert detail.summary.state == "delivered"


async def test_after_the_partners_attempts_the_output_is_dead_lettered_with_the_reason(repo: MessageRepository) -> None:
    relay, dead = _relay(repo, Scripted("down", "down", "down", "down"))
    m = await _enqueue(repo, relay)
    await _settle(relay, repo)
    detail = await repo.get(m.id)
    assert detail.summary.state == "failed" and detail.outputs[0]["state"] == "dead"
    assert detail.outputs[0]["attempts"] == 3 and "HTTP 500" in detail.outputs[0]["last_error"]
    assert detail.errors[-1]["message"].startswith("dead-lettered after 3 attempt(s) to partner:ACME")
    assert dead == ["[ENDPOINT_UNAVAILABLE] HTTP 500"]
    assert await repo.retry([m.id], actor="alice") == 1  # an operator retries: delivered this time
    await _settle(relay, repo)
    again = await repo.get(m.id)
    assert again.summary.state == "delivered"
    assert any(e["stage"] == "retry" and e["actor"] == "alice" for e in again.events)


async def test_a_refusal_is_dead_lettered_at_once(repo: MessageRepository) -> None:
    relay, dead = _relay(repo, Scripted("refuse"))
    m = await _enqueue(repo, relay)
    await _settle(relay, repo)
    detail = await repo.get(m.id)
    assert detail.outputs[0]["attempts"] == 1 and detail.outputs[0]["state"] == "dead"
    assert "HTTP 400" in dead[0]


async def test_an_open_breaker_puts_deliveries_off_without_spending_attempts(repo: MessageRepository) -> None:
    sender = Scripted("down", "down")
    relay, _ = _relay(repo, sender, threshold=2)
    msgs = [await _enqueue(repo, relay)]
    for _ in range(500):  # the first output fails twice: the endpoint's breaker opens
        await relay.drain()
        if len(sender.calls) == 2:
            break
        await asyncio.sleep(0.01)
    (breaker,) = relay.breakers.values()
    assert breaker.is_open
    now = [0.0]  # the breaker's clock stands still while the others are enqueued (however slow the machine)
    breaker.clock, breaker.opened_at = (lambda: now[0]), 0.0
    for i in range(4):
        extra = Message(raw=order(f"PO-x{i}"), channel="t", partner_id="ACME", document_type="order")
        extra.record("receive", "ok")
        extra.state = State.ROUTED
        extra.outputs.append(Output(destination="partner:ACME", payload=f"{i}".encode(), format="canonical-json"))
        msgs.append(extra)
        await relay.submit((await repo.save_and_enqueue(extra, owner="test", lease_s=30)).items)
    await relay.drain()
    assert len(sender.calls) == 2  # put off, not tried
    for m in msgs[1:]:
        assert (await repo.get(m.id)).outputs[0]["attempts"] == 0
    now[0] = 1.0  # past the cool-down
    await _settle(relay, repo)  # after the cool-down one probe goes through, then the rest
    states = [(await repo.get(m.id)).summary.state for m in msgs]
    assert states == ["delivered"] * len(msgs) and len(sender.calls) == 2 + len(msgs)


async def test_a_destination_that_leads_nowhere_ends_dead_lettered(repo: MessageRepository) -> None:
    relay, dead = _relay(repo, Scripted())
    m = await _enqueue(repo, relay, destination="partner:NOCHANNEL")
    await _settle(relay, repo)
    assert (await repo.get(m.id)).outputs[0]["state"] == "dead"
    assert "has no channel" in dead[0]


async def test_entries_of_a_dead_process_are_taken_over(repo: MessageRepository) -> None:
    sender = Scripted()
    relay, _ = _relay(repo, sender)
    m = Message(raw=order("PO-9"), channel="t", partner_id="ACME", document_type="order")
    m.record("receive", "ok")
    m.state = State.ROUTED
    m.outputs.append(Output(destination="partner:ACME", payload=b"x", format="canonical-json"))
    await repo.save_and_enqueue(m, owner="a-process-that-died", lease_s=0.01)  # never handed to our relay
    await asyncio.sleep(0.05)
    await _settle(relay, repo)
    assert len(sender.calls) == 1 and (await repo.get(m.id)).summary.state == "delivered"


def _routed(i: int) -> Message:
    m = Message(raw=order(f"PO-b{i}"), channel="t", partner_id="ACME", document_type="order")
    m.record("receive", "ok")
    m.state = State.ROUTED
    m.outputs.append(Output(destination="partner:ACME", payload=f"{i}".encode(), format="canonical-json"))
    return m


async def _full_relay(
    repo: MessageRepository, sender: Scripted, *, max_pending: int, entries: int, lease_s: float
) -> tuple[OutboxRelay, asyncio.Task[None]]:
    """A relay holding at most ``max_pending``, and a pipeline handing it ``entries`` (still waiting)."""
    senders = SenderRegistry()
    senders.register("http", sender)
    settings = DeliverySettings(poll_interval_s=0.01, max_pending=max_pending)
    relay = OutboxRelay(repo, EndpointResolver(lambda: PARTNERS, erp_exchange="b2b.erp"), senders, settings, owner="t")
    items = []
    for i in range(entries):
        items += (await repo.save_and_enqueue(_routed(i), owner="t", lease_s=lease_s)).items
    handing = asyncio.create_task(relay.submit(items))
    await asyncio.sleep(0.05)
    assert not handing.done()
    return relay, handing


async def _run_until_sent(relay: OutboxRelay, sender: Scripted, handing: Awaitable[Any], count: int) -> None:
    """Run the relay until the pipelines handing over (``handing``) are done and ``count`` were sent."""
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    await asyncio.wait_for(handing, 5)
    for _ in range(500):
        if len(sender.calls) == count:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await running


async def test_handed_over_entries_are_bounded_and_the_pipeline_waits_for_room(repo: MessageRepository) -> None:
    sender = Scripted()
    relay, handing = await _full_relay(repo, sender, max_pending=2, entries=5, lease_s=30)
    assert relay._ready is not None and relay._ready.qsize() == 2  # held: at most 2 wait
    await _run_until_sent(relay, sender, handing, 5)  # the relay makes room: the rest go in as it delivers
    assert sorted(r.payload for r in sender.calls) == [b"0", b"1", b"2", b"3", b"4"]


async def test_closing_the_relay_releases_a_waiting_pipeline_and_the_store_keeps_the_entries(
    repo: MessageRepository,
) -> None:
    sender = Scripted()
    relay, handing = await _full_relay(repo, sender, max_pending=1, entries=3, lease_s=0.05)
    relay.close()
    await asyncio.wait_for(handing, 5)  # a stopping gateway is not held up by a full relay
    assert (await repo.outbox_counts())["pending"] == 3  # nothing lost: all three still in the outbox
    later = OutboxRelay(repo, relay.resolver, relay.senders, relay.settings, owner="u")
    await asyncio.sleep(0.06)  # the leases run out
    await _settle(later, repo)
    assert len(sender.calls) == 3


async def test_an_entry_held_past_its_lease_is_left_to_the_poll_and_tried_once(repo: MessageRepository) -> None:
    sender = Scripted()
    relay, _ = _relay(repo, sender)
    m = _routed(1)
    held = (await repo.save_and_enqueue(m, owner="test", lease_s=0.05)).items
    await asyncio.sleep(0.1)  # it waited in memory longer than its lease: a poll may take it now
    await relay.submit(held)
    await _settle(relay, repo)
    assert len(sender.calls) == 1  # the poll's claim tried it; the stale hand-over did not try it again
    detail = await repo.get(m.id)
    assert [e["detail"] for e in detail.events if e["stage"] == "deliver"] == ["partner:ACME attempt 1: HTTP 200"]


async def test_several_pipelines_waiting_for_room_all_get_in(repo: MessageRepository) -> None:
    sender = Scripted()
    relay, first = await _full_relay(repo, sender, max_pending=1, entries=3, lease_s=30)
    more = []
    for i in range(3, 6):
        more += (await repo.save_and_enqueue(_routed(i), owner="t", lease_s=30)).items
    second = asyncio.create_task(relay.submit(more))  # a second pipeline, waiting behind the first
    await asyncio.sleep(0.05)
    assert not second.done()
    await _run_until_sent(relay, sender, asyncio.gather(first, second), 6)  # each entry taken makes room
    assert sorted(r.payload for r in sender.calls) == [b"0", b"1", b"2", b"3", b"4", b"5"]


async def test_a_pipeline_cancelled_as_room_came_passes_the_room_on(repo: MessageRepository) -> None:
    sender = Scripted()
    relay, first = await _full_relay(repo, sender, max_pending=1, entries=2, lease_s=30)  # 1 held, 1 waiting
    (last,) = (await repo.save_and_enqueue(_routed(2), owner="t", lease_s=30)).items
    second = asyncio.create_task(relay.submit([last]))
    await asyncio.sleep(0.05)
    assert relay._ready is not None
    relay._take(relay._ready)  # room for the first waiting pipeline …
    first.cancel()  # … which is cancelled before it could use it
    await asyncio.wait_for(second, 5)  # the room went to the next one
    assert first.cancelled()
    assert [i.id for i in [relay._ready.get_nowait()]] == [last.id]
