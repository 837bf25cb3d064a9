"""The at-least-once ceiling: a plain aio-pika relay (consume, publish with confirm, ack after confirm).

Whatever relays at least once through RabbitMQ on this machine cannot beat this; the gateway's
end-to-end rate is reported as a ratio of it, measured in the same run with the same message sizes.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from dataclasses import dataclass

import aio_pika

__all__ = ["RelayResult", "run_relay"]


@dataclass(frozen=True)
class RelayResult:
    messages: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def percentile(self, p: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(len(data) * p))] if data else 0.0

    def summary(self) -> dict[str, float]:
        return {
            "messages": self.messages,
            "seconds": round(self.seconds, 3),
            "rate_per_s": round(self.rate, 1),
            "p50_ms": round(statistics.median(self.latencies_ms), 2) if self.latencies_ms else 0.0,
            "p99_ms": round(self.percentile(0.99), 2),
        }


async def run_relay(url: str, payload: bytes, count: int, *, prefetch: int = 100) -> RelayResult:
    """Relay ``count`` copies of ``payload`` from one durable queue to another, the straightforward way."""
    tag = uuid.uuid4().hex[:8]
    conn = await aio_pika.connect_robust(url)
    try:
        pub_ch = await conn.channel(publisher_confirms=True)
        relay_ch = await conn.channel(publisher_confirms=True)
        await relay_ch.set_qos(prefetch_count=prefetch)
        src = await pub_ch.declare_queue(f"bench.relay.in.{tag}", durable=True, arguments={"x-queue-type": "quorum"})
        dst = await pub_ch.declare_queue(f"bench.relay.out.{tag}", durable=True, arguments={"x-queue-type": "quorum"})
        sent_at: dict[str, float] = {}
        latencies: list[float] = []
        done = asyncio.Event()
        received = 0

        async def relay_one(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await relay_ch.default_exchange.publish(
                aio_pika.Message(message.body, message_id=message.message_id, delivery_mode=2), routing_key=dst.name
            )
            await message.ack()

        async def on_in(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            asyncio.get_running_loop().create_task(relay_one(message))

        async def on_out(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            latencies.append((time.perf_counter() - sent_at[str(message.message_id)]) * 1000)
            received += 1
            if received >= count:
                done.set()

        sink_ch = await conn.channel()
        await sink_ch.set_qos(prefetch_count=prefetch)
        sink = await sink_ch.get_queue(dst.name)
        in_tag = await src.consume(on_in)
        out_tag = await sink.consume(on_out)
        start = time.perf_counter()
        window = asyncio.Semaphore(500)

        async def publish(i: int) -> None:
            async with window:
                mid = f"{tag}-{i}"
                sent_at[mid] = time.perf_counter()
                await pub_ch.default_exchange.publish(
                    aio_pika.Message(payload, message_id=mid, delivery_mode=2), routing_key=src.name
                )

        await asyncio.gather(*(publish(i) for i in range(count)))
        await asyncio.wait_for(done.wait(), timeout=max(120, count / 50))
        elapsed = time.perf_counter() - start
        await src.cancel(in_tag)
        await sink.cancel(out_tag)
        await src.delete(if_unused=False, if_empty=False)
        await dst.delete(if_unused=False, if_empty=False)
        return RelayResult(count, elapsed, latencies)
    finally:
        await conn.close()


if __name__ == "__main__":  # pragma: no cover - manual run
    url = os.environ.get("B2B_AMQP__URL", "amqp://guest:guest@127.0.0.1/")
    print(asyncio.run(run_relay(url, b"x" * 2048, 5000)).summary())
