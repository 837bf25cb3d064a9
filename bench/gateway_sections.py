"""The sections that need running gateways: inbound, outbound, latency at half load, 1 and 2 processes."""

from __future__ import annotations

import statistics
from typing import Any

from bench import documents
from bench.amqp import percentile
from bench.cpu import CpuUse, StealWatch
from bench.e2e import Case, GatewayBench, inbound_cases
from bench.infra import KEY_TYPES
from bench.plan import Plan


async def run_gateway_sections(plan: Plan, store: str = "postgres", key_type: str = "ec") -> dict[str, Any]:
    """Every gateway section of ``plan`` against one private vhost and database."""
    bench = await GatewayBench(store=store, key_type=key_type).open()
    try:
        out: dict[str, Any] = {
            "store": bench.store_label,
            "signing": KEY_TYPES[key_type],
            "workdir": str(bench.root),
            "inbound": [],
            "outbound": [],
        }
        for case in inbound_cases(plan.inbound):
            print(f"   inbound {case.name} × {case.count} …", flush=True)
            out["inbound"].append(await bench.measure(case, plan.rounds))
        outbound = Case("outbound-orders", documents.canonical_orders, plan.outbound, outbound=True)
        print(f"   outbound × {outbound.count} …", flush=True)
        out["outbound"].append(await bench.measure(outbound, plan.rounds))
        out["half_load"] = await half_load(bench, plan, out["inbound"][0])
        out["processes"] = await processes(bench, plan, out["inbound"][0])
        return out
    finally:
        await bench.close()


async def half_load(bench: GatewayBench, plan: Plan, burst: dict[str, Any]) -> dict[str, Any]:
    """10-line ORDERS published at half the burst rate; the latency of each, end to end."""
    rate = burst["rate_per_s"] / 2
    count = max(5, min(plan.paced, int(rate * plan.paced_seconds)))
    case = Case("orders-10", lambda n, t: documents.orders(n, 10, t), count)
    print(f"   half load: {case.count} at {rate:.0f}/s …", flush=True)
    timings, rounds_p99, steal = [], [], []
    paused, stalled = len(bench.gateways[0].gc_pauses()), len(bench.gateways[0].loop_stalls())
    for _ in range(plan.rounds):
        await bench.settled()
        watch = StealWatch().start()
        try:
            timings.append(await bench.burst(case, rate=rate))
        finally:
            steal.append(watch.stop())
        rounds_p99.append(round(percentile(timings[-1].latencies_ms, 0.99), 1))
    await bench.settled(pause_s=1.5)  # the gateway logs its pauses once a second
    pauses = bench.gateways[0].gc_pauses()[paused:]
    stalls = bench.gateways[0].loop_stalls()[stalled:]
    return {
        "case": "orders-10 at half load",
        "messages": case.count,
        "rounds": len(timings),
        "target_rate_per_s": round(rate, 1),
        "rate_per_s": round(statistics.median(t.rate for t in timings), 1),
        "p50_ms": round(statistics.median(percentile(t.latencies_ms, 0.5) for t in timings), 1),
        "p99_ms": round(statistics.median(percentile(t.latencies_ms, 0.99) for t in timings), 1),
        "p99_ms_per_round": rounds_p99,
        # collector pauses of process.gc_log_ms (40) or more logged during the rounds and their settling
        "gc_pauses_ms": sorted(pauses, reverse=True)[:20],
        # event-loop wake-ups process.loop_stall_ms (40) or more late (every document in flight waited)
        "loop_stalls_ms": sorted(stalls, reverse=True)[:20],
        # CPU time the hypervisor took (/proc/stat steal) in each round, and in its worst quarter second
        "steal_per_round": steal,
    }


async def processes(bench: GatewayBench, plan: Plan, one: dict[str, Any]) -> dict[str, Any]:
    """10-line ORDERS with one gateway process, then with two from one ``run --workers 2`` (the last section:
    the single gateway is replaced)."""
    case = Case("orders-10", lambda n, t: documents.orders(n, 10, t), plan.two_processes)
    print(f"   1 process × {case.count} …", flush=True)
    single = await _with_cpu(bench, case, plan.rounds)
    bench.remove_gateway()
    await bench.add_gateway(workers=2)
    print(f"   2 processes (run --workers 2) × {case.count} …", flush=True)
    double = await _with_cpu(bench, case, plan.rounds)
    relay = one["relay_rate_per_s"]
    return {
        "case": "orders-10",
        "messages": case.count,
        "relay_rate_per_s": relay,
        "one": _against(single, relay),
        "two": _against(double, relay),
    }


async def _with_cpu(bench: GatewayBench, case: Case, rounds: int) -> dict[str, Any]:
    """:meth:`GatewayBench.measure` with the CPU the gateway processes and the machine used meanwhile."""
    use = CpuUse([gw.pid for gw in bench.gateways]).start()
    result = await bench.measure(case, rounds, relay=False)
    return {**result, "cpu": use.stop(bench.WARM_UP + case.count * rounds)}


def _against(result: dict[str, Any], relay: float) -> dict[str, Any]:
    return {**result, "relay_rate_per_s": relay, "ratio": round(result["rate_per_s"] / relay, 3) if relay else None}
