"""Where the gateway's CPU goes per inbound message: the real pipeline, timed stage by stage.

Builds the inbound pipeline the way ``b2b-gateway run`` does (:class:`~b2b_gateway.runtime.gateway.Gateway`
with its wiring: the real store with group commit on a SQLite file or on PostgreSQL, the outbox relay, a
real RSA signing key in ``certs/``, the shipped partners in ``mappings/``, the metrics observer), feeds it
``-n`` generated EDIFACT ORDERS of ``--lines`` lines from ``--partner`` (default MOCKBUYER, whose golden
sample is the template), ``--concurrency`` at a time (the prefetch of a queue consumer), and prints:

* overall wall ms/message and process CPU ms/message (all threads: aiosqlite's work included);
* per stage, the CPU spent in the stage's own code (its coroutine's steps; time waiting for the group
  commit is not counted), plus ``acknowledge`` (CONTRL), ``db.writer`` (the group-commit task:
  statements, driver, commit), ``relay`` (outbox delivery to the senders) and ``other``;
* with ``--cprofile``, the top functions by own time and by cumulative time.

The garbage collector runs as ``b2b-gateway run`` runs it while serving (``Gateway.serving_collector``:
start-up frozen, ``process.gc_thresholds``); ``--python-gc`` keeps Python's own settings.

Only the queue is left out: the relay's ``erp``/``queue`` sender publishes to a transport that
confirms at once, and AS2/HTTP channels (the CONTRL back to the partner) go to a sender that accepts
at once. The end-to-end numbers through RabbitMQ come from a real ``b2b-gateway run`` (see
docs/performance.md, "Where the time goes").

Run: ``.venv/bin/python scripts/profile_pipeline.py -n 2000 --store sqlite --store postgres [--cprofile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import pstats
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine, Generator
from pathlib import Path
from typing import Any

from b2b_gateway.api.gateway_ops import attach_operations
from b2b_gateway.observability.logging import configure_logging
from b2b_gateway.pipeline.message import Direction, new_id
from b2b_gateway.pipeline.stages import Stage
from b2b_gateway.runtime.gateway import Gateway
from b2b_gateway.runtime.worker import message_from_envelope
from b2b_gateway.security.files import save_entry
from b2b_gateway.security.keys import KeyType, generate_private_key, issue_certificate
from b2b_gateway.settings import LoggingSettings, Settings
from b2b_gateway.transport.base import Envelope, Handler, OutboundRequest, QueueDepth

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "profile-passphrase"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"

Clock = dict[str, float]
OUTPUTS_PER_MESSAGE = 2
"""The canonical order for the ERP and the CONTRL back to the partner."""


# --- timing ---------------------------------------------------------------------------------------


class Clocked:
    """Awaits a coroutine, adding the thread CPU time of each of its steps to ``clock[name]``."""

    __slots__ = ("clock", "coro", "name")

    def __init__(self, coro: Coroutine[Any, Any, Any], clock: Clock, name: str) -> None:
        self.coro, self.clock, self.name = coro, clock, name

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, clock, name = self.coro, self.clock, self.name
        value: Any = None
        error: BaseException | None = None
        while True:
            start = time.thread_time()
            try:
                step = coro.send(value) if error is None else coro.throw(error)
            except StopIteration as stop:
                clock[name] += time.thread_time() - start
                return stop.value
            clock[name] += time.thread_time() - start
            try:
                value, error = (yield step), None
            except BaseException as exc:
                value, error = None, exc


def clocked_stage(stage: Stage, clock: Clock) -> Stage:
    async def run(message: Any, ctx: Any) -> Any:
        return await Clocked(stage(message, ctx), clock, stage.name)

    return Stage(stage.name, run)


def clock_method(obj: Any, attr: str, clock: Clock, name: str) -> None:
    original: Callable[..., Coroutine[Any, Any, Any]] = getattr(obj, attr)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await Clocked(original(*args, **kwargs), clock, name)

    setattr(obj, attr, wrapper)


# --- the parts the profile leaves out ---------------------------------------------------------------


class ConfirmingTransport:
    """A queue transport whose publishes are confirmed at once (the profile leaves the broker out)."""

    name = "null"

    def __init__(self) -> None:
        self.published = 0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def publish(self, exchange: str, envelope: Envelope) -> None:
        self.published += 1

    async def consume(self, queue: str, handler: Handler, *, prefetch: int) -> None:
        return None

    async def stop_consuming(self) -> None:
        return None

    async def depths(self) -> list[QueueDepth]:
        return []


class AcceptingSender:
    """AS2/HTTP endpoints that accept everything (the CONTRL back to the partner)."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, request: OutboundRequest) -> str:
        self.sent += 1
        return "accepted"


# --- inputs --------------------------------------------------------------------------------------------

_LINE = [
    "LIN+{i}++ART-{i:05d}:VP'",
    "PIA+1+0761234{i:05d}:UP'",
    "IMD+F++:::Article {i}'",
    "QTY+21:{q}:PCE'",
    "PRI+AAA:{p}.50'",
]


def orders(partner: str, lines: int) -> Callable[[int], bytes]:
    """A factory of ORDERS interchanges (``lines`` lines, numbered) built on the partner's golden sample."""
    sample = (ROOT / "mappings" / partner / "samples" / "orders-in" / "input.edi").read_text("latin-1")
    una, _, rest = sample.partition("\n") if sample.startswith("UNA") else ("", "", sample)
    segments = [s.strip() + "'" for s in rest.split("'") if s.strip()]
    first_lin = next(i for i, s in enumerate(segments) if s.startswith("LIN"))
    head = segments[:first_lin]
    tail_fixed = ["UNS+S'", f"CNT+2:{lines}'"]

    def make(n: int) -> bytes:
        body = []
        for s in head:
            if s.startswith("UNB"):
                parts = s[:-1].split("+")
                parts[5] = f"P{n:08d}"
                s = "+".join(parts) + "'"
            elif s.startswith("BGM"):
                parts = s[:-1].split("+")
                parts[2] = f"PO-{n:08d}"
                s = "+".join(parts) + "'"
            body.append(s)
        for i in range(1, lines + 1):
            body += [x.format(i=i, q=i % 90 + 1, p=i % 50 + 1) for x in _LINE]
        body += tail_fixed
        unh_at = next(i for i, s in enumerate(body) if s.startswith("UNH"))
        count = len(body) - unh_at + 1
        ref = body[unh_at][:-1].split("+")[1]
        body.append(f"UNT+{count}+{ref}'")
        unb = next(s for s in body if s.startswith("UNB"))
        body.append(f"UNZ+1+{unb[:-1].split('+')[5]}'")
        return "\n".join([una, *body] if una else body).encode("latin-1") + b"\n"

    return make


# --- set-up ---------------------------------------------------------------------------------------------


def make_certs(directory: Path, key_type: KeyType, bits: int) -> None:
    key = generate_private_key(key_type, bits)
    cert = issue_certificate("EURODIS", key, days=30)
    save_entry(directory, "ours", [cert], key, PASSPHRASE.encode())


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qAtc", sql], check=True)


def settings_for(work: Path, store_url: str) -> Settings:
    return Settings(
        paths={"data_dir": work / "var", "mappings_dir": ROOT / "mappings", "certs_dir": work / "certs"},
        store={"url": store_url},
        http={"enabled": False},
        security={"key_passphrase": PASSPHRASE, "signing_key": "ours"},
        directories={"poll_interval_s": 5.0},
    )


# --- the run ---------------------------------------------------------------------------------------------


async def run(
    settings: Settings,
    make: Callable[[int], bytes],
    count: int,
    concurrency: int,
    warmup: int,
    *,
    python_gc: bool = False,
) -> dict[str, Any]:
    transport = ConfirmingTransport()
    gateway = Gateway(settings, transport=transport)
    accepting = AcceptingSender()
    for kind in ("as2", "http"):
        gateway.senders.register(kind, accepting)
    stop = asyncio.Event()
    ops = attach_operations(gateway, stop)
    await gateway.start(consume=False, http=False)
    gateway.start_background()
    with contextlib.nullcontext() if python_gc else gateway.serving_collector():
        assert gateway.worker is not None and gateway.repo is not None and gateway.relay is not None
        clock: Clock = defaultdict(float)
        pipeline = gateway.worker.pipeline
        pipeline.inbound = tuple(clocked_stage(s, clock) for s in pipeline.inbound)
        clock_method(pipeline, "_acknowledge", clock, "acknowledge")
        clock_method(gateway.repo.writer, "_commit", clock, "db.writer")
        clock_method(gateway.relay, "_attempt", clock, "relay")
        worker = gateway.worker

        async def one(n: int) -> None:
            env = Envelope(body=make(n), message_id=new_id(), routing_key="profile", headers={})
            message = await worker.run(lambda: message_from_envelope(env, Direction.INBOUND), hold=True)
            if message.state.value not in ("routed", "delivered"):
                raise SystemExit(f"message {n} ended {message.state.value}: {[e.to_dict() for e in message.errors]}")

        def delivered() -> int:
            return transport.published + accepting.sent

        async def settle(target: int) -> None:
            """Wait (a minute at most) until ``target`` outputs were delivered and the relay is idle."""
            for _ in range(12_000):
                if delivered() >= target and gateway.relay is not None and not gateway.relay.busy:
                    return
                await asyncio.sleep(0.005)

        async def batch(start: int, n: int) -> None:
            window = asyncio.Semaphore(concurrency)

            async def limited(i: int) -> None:
                async with window:
                    await one(i)

            target = delivered() + OUTPUTS_PER_MESSAGE * n
            await asyncio.gather(*(limited(i) for i in range(start, start + n)))
            await settle(target)

        await batch(0, warmup)
        clock.clear()
        outputs_before = delivered()
        commits_before, jobs_before = gateway.repo.writer.commits, gateway.repo.writer.jobs
        wall0, cpu0 = time.perf_counter(), time.process_time()
        await batch(warmup, count)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        result = {
            "wall_ms": wall * 1000 / count,
            "cpu_ms": cpu * 1000 / count,
            "rate": count / wall,
            "stages": {k: v * 1000 / count for k, v in clock.items()},
            "commits": gateway.repo.writer.commits - commits_before,
            "jobs": gateway.repo.writer.jobs - jobs_before,
            "outputs": delivered() - outputs_before,
        }
        stop.set()
        await gateway.stop()
        await ops.close()
        return result


def report(name: str, result: dict[str, Any], count: int) -> None:
    stages: dict[str, float] = result["stages"]
    print(f"\n== {name}: {count} messages")
    print(
        f"   wall {result['wall_ms']:.3f} ms/msg ({result['rate']:.0f} msg/s), "
        f"process CPU {result['cpu_ms']:.3f} ms/msg; "
        f"{result['commits']} commits for {result['jobs']} store jobs ({result['jobs'] / max(1, count):.1f}/msg), "
        f"{result['outputs']} outputs"
    )
    total = 0.0
    for stage, ms in stages.items():
        print(f"   {stage:<16} {ms:7.3f} ms/msg")
        total += ms
    print(f"   {'other':<16} {result['cpu_ms'] - total:7.3f} ms/msg  (event loop, aiosqlite thread, background tasks)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--messages", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--partner", default="MOCKBUYER")
    parser.add_argument("--store", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--key-type", choices=["rsa", "ec"], default="rsa")
    parser.add_argument(
        "--bits", type=int, default=3072, help="RSA bits (the certs generate default), or 256/384 for EC"
    )
    parser.add_argument(
        "--python-gc", action="store_true", help="Python's own collector settings (default: as the gateway serves)"
    )
    parser.add_argument("--cprofile", action="store_true", help="print the top functions (slower run)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--pstats", type=Path, help="with --cprofile: also write the raw profile here")
    args = parser.parse_args(argv)
    configure_logging(LoggingSettings(level="INFO", format="json"), stream=open("/dev/null", "w"))  # noqa: SIM115
    make = orders(args.partner, args.lines)
    print(
        f"{args.partner}: {args.lines}-line ORDERS of {len(make(0))} bytes; {args.key_type}-{args.bits} signing key; "
        f"concurrency {args.concurrency}; Python {sys.version.split()[0]}"
    )
    for store in args.store or ["sqlite", "postgres"]:
        with tempfile.TemporaryDirectory(prefix="b2b-profile-") as tmp:
            work = Path(tmp)
            make_certs(work / "certs", args.key_type, args.bits)
            db = f"b2b_profile_{uuid.uuid4().hex[:10]}"
            if store == "sqlite":
                url = f"sqlite+aiosqlite:///{work / 'store.db'}"
            else:
                psql(f"CREATE DATABASE {db}")
                url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}"
            try:
                settings = settings_for(work, url)
                coro = run(settings, make, args.messages, args.concurrency, args.warmup, python_gc=args.python_gc)
                if args.cprofile:
                    profiler = cProfile.Profile()
                    result = profiler.runcall(asyncio.run, coro)
                else:
                    result = asyncio.run(coro)
                report(store, result, args.messages)
                if args.cprofile:
                    if args.pstats:
                        profiler.dump_stats(args.pstats)
                    stats = pstats.Stats(profiler)
                    stats.sort_stats("tottime").print_stats(args.top)
                    stats.sort_stats("cumulative").print_stats(args.top)
            finally:
                if store == "postgres":
                    psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")
                    psql(f"DROP DATABASE IF EXISTS {db}")


if __name__ == "__main__":
    main()
