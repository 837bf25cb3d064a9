"""``python -m bench.latency [--rate 30] [--count 900] [--burst 600]``: latency over a paced stream.

A closer look at the half-load case: one ``b2b-gateway run`` process (the benchmark's workspace, a
private vhost and PostgreSQL database), optionally a burst of ``--burst`` 10-line ORDERS first (the
state a full run leaves), then ``--count`` documents published at ``--rate`` per second. Prints p50,
p90, p99 and the worst latencies, and the p50 and maximum of each 100 documents in publish order,
which shows whether the gateway keeps up or falls behind as the stream goes on.
"""

from __future__ import annotations

import argparse
import asyncio

from bench import documents
from bench.amqp import Timing
from bench.e2e import Case, GatewayBench


def _orders(n: int, tag: str) -> list[documents.Doc]:
    return documents.orders(n, 10, tag)


def report(timing: Timing, rate: float) -> list[str]:
    """The lines printed for one paced stream."""
    lat = sorted(timing.latencies_ms)
    n = len(lat)
    lines = [
        f"rate {rate}/s n={n} p50={lat[n // 2]:.1f} p90={lat[int(n * 0.9)]:.1f} "
        f"p99={lat[min(n - 1, int(n * 0.99))]:.1f} max={lat[-1]:.1f} ms",
        "worst: " + ", ".join(f"{x:.0f}" for x in lat[-10:]),
    ]
    order = sorted(timing.sent, key=timing.sent.__getitem__)
    for i in range(0, n, 100):
        chunk = sorted((timing.arrived[k] - timing.sent[k]) * 1000 for k in order[i : i + 100])
        lines.append(f"  documents {i}-{i + len(chunk)}: p50 {chunk[len(chunk) // 2]:.0f} ms, max {chunk[-1]:.0f} ms")
    return lines


async def run(rate: float, count: int, burst: int, key_type: str = "ec") -> None:
    bench = await GatewayBench(key_type=key_type).open()
    try:
        case = Case("orders-10", _orders, count)
        await bench.burst(case, count=20)  # warm-up
        if burst:
            first = await bench.burst(case, count=burst)
            print(f"burst of {burst}: {first.rate:.1f}/s")
        for line in report(await bench.burst(case, rate=rate), rate):
            print(line)
    finally:
        await bench.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--rate", type=float, default=30.0, help="documents per second")
    parser.add_argument("--count", type=int, default=900, help="documents in the paced stream")
    parser.add_argument("--burst", type=int, default=0, help="a burst of this many documents first")
    parser.add_argument("--key-type", choices=("ec", "rsa"), default="ec", help="the gateway's signing key")
    args = parser.parse_args()
    asyncio.run(run(args.rate, args.count, args.burst, args.key_type))


if __name__ == "__main__":
    main()
