"""Section: what each pipeline stage costs, per message, in process.

A real :class:`~b2b_gateway.runtime.gateway.Gateway` (the bench workspace: shipped partners, signing
key, official schemas; a SQLite file store and the embedded queue, no broker) is started without
consumers; its inbound stages are wrapped with timers and 10-line ORDERS (and UBL invoices) run
through them one after another, as a queue consumer runs them. ``python -m bench --profile`` also runs
the EDIFACT case under cProfile and prints the functions that cost most.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from b2b_gateway.observability.logging import configure_logging
from b2b_gateway.pipeline.message import Direction
from b2b_gateway.pipeline.runner import Pipeline
from b2b_gateway.pipeline.stages import Stage, StageResult
from b2b_gateway.runtime.gateway import Gateway
from b2b_gateway.runtime.worker import message_from_envelope
from b2b_gateway.settings import Settings
from b2b_gateway.transport.base import Envelope
from bench import documents
from bench.documents import Doc
from bench.infra import PASSPHRASE, prepare_workspace


def _timed(stage: Stage, spent: dict[str, float]) -> Stage:
    async def run(message: Any, ctx: Any) -> StageResult:
        t0 = time.perf_counter()
        try:
            return await stage(message, ctx)
        finally:
            spent[stage.name] += time.perf_counter() - t0

    return Stage(stage.name, run)


def profile_settings(root: Path) -> Settings:
    """The profiled gateway's settings: the bench workspace under ``root``, no HTTP, warnings only."""
    return Settings(
        company_id="EURODIS",
        paths={"data_dir": root / "var", "mappings_dir": root / "mappings", "certs_dir": root / "certs"},
        security={"key_passphrase": PASSPHRASE},
        http={"enabled": False},
        logging={"level": "WARNING"},
        # the relay runs only when the gateway serves, not here: nothing drains the outputs handed to it,
        # so its queue must hold them all (at 512, the default, the pipeline waited for room for ever)
        delivery={"max_pending": 1_000_000},
    )


async def _pipeline(root: Path, key_type: str = "ec") -> tuple[Gateway, Pipeline, dict[str, float]]:
    prepare_workspace(root, key_type=key_type)
    settings = profile_settings(root)
    configure_logging(settings.logging)
    gateway = Gateway(settings, embedded=True)
    await gateway.start(consume=False, http=False)
    assert gateway.worker is not None
    spent: dict[str, float] = defaultdict(float)
    stages = [_timed(s, spent) for s in gateway.inbound_stages]
    return gateway, Pipeline(gateway.worker.pipeline.ctx, inbound=stages), spent


async def _run(pipeline: Pipeline, docs: list[Doc]) -> float:
    t0 = time.perf_counter()
    for doc in docs:
        env = Envelope(body=doc.body, message_id=doc.key, routing_key="bench")
        message = await pipeline.run(message_from_envelope(env, Direction.INBOUND))
        if message.errors:
            raise RuntimeError(f"{doc.key} not accepted: {message.errors[0]}")
    return time.perf_counter() - t0


def _per_stage(spent: dict[str, float], total: float, n: int) -> dict[str, Any]:
    stages = {name: round(s / n * 1000, 3) for name, s in spent.items()}
    other = total - sum(spent.values())
    return {
        "messages": n,
        "total_ms_per_message": round(total / n * 1000, 3),
        "stages_ms": dict(sorted(stages.items(), key=lambda kv: -kv[1])),
        "outside_stages_ms": round(other / n * 1000, 3),
    }


async def run_profile(messages: int, *, cprofile: bool = False, key_type: str = "ec") -> dict[str, Any]:
    """Milliseconds per message and stage for 10-line ORDERS and for UBL invoices (after a warm-up)."""
    gateway, pipeline, spent = await _pipeline(Path(tempfile.mkdtemp(prefix="b2b-bench-prof-")), key_type)
    try:
        out: dict[str, Any] = {"store": "SQLite (WAL, synchronous FULL), embedded queue"}
        cases = {
            "orders-10": lambda n, t: documents.orders(n, 10, t),
            "ubl-invoice": documents.ubl_invoices,
        }
        with gateway.serving_collector():  # the collector as `b2b-gateway run` sets it
            for name, make in cases.items():
                await _run(pipeline, make(5, f"prof-warm-{name}"))
                spent.clear()
                docs = make(messages, f"prof-{name}")
                profiler = cProfile.Profile() if cprofile and name == "orders-10" else None
                if profiler is not None:
                    profiler.enable()
                total = await _run(pipeline, docs)
                if profiler is not None:
                    profiler.disable()
                    out["cprofile_top"] = _top(profiler)
                out[name] = _per_stage(spent, total, len(docs))
        return out
    finally:
        await gateway.stop()


def _top(profiler: cProfile.Profile, limit: int = 25) -> str:
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(limit)
    return buffer.getvalue()
