"""End to end through RabbitMQ: a real ``b2b-gateway run`` process, and the raw aio-pika relay beside it.

In a private vhost, ``-n`` 10-line EDIFACT ORDERS from MOCKBUYER (see ``scripts/profile_pipeline.py``)
are published to ``b2b.in`` while the gateway is stopped; then the gateway (signing with an RSA key, or
with ``--key-type ec`` an ECDSA P-256 one, in ``certs/``; the store on a SQLite file or ``--pg`` on
PostgreSQL) is started and drains the queue. Each order leaves as canonical JSON on the ERP exchange
and its CONTRL goes back to the partner through an AMQP channel (MOCKBUYER's AS2 channel swapped for
one to the ERP exchange in a copy of ``mappings/``), so a collector on the ERP queue sees two messages
per order. ``BENCH_B2B_X=v`` sets the gateway's ``B2B_X=v`` (a setting to compare). Printed: the
gateway's rate (first to last output), its process CPU per order (from ``/proc``), and the relay's rate
with the same message size.

Run: ``.venv/bin/python scripts/e2e_gateway.py -n 3000 [--pg] [--key-type ec] [--cprofile gateway.prof]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.infra import child_env
from bench.relay import run_relay
from scripts.profile_pipeline import PASSPHRASE, ROOT, make_certs, orders, psql

AMQP = "amqp://guest:guest@127.0.0.1:5672"


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mappings_copy(target: Path) -> None:
    shutil.copytree(ROOT / "mappings", target)
    profile = target / "MOCKBUYER" / "partner.yaml"
    text = profile.read_text()
    start = text.index("channels:")
    end = text.index("security:")
    swapped = "channels:\n  - {name: erp, kind: amqp, exchange: b2b.erp, routing_key: contrl.MOCKBUYER}\n"
    profile.write_text(text[:start] + swapped + text[end:])


def gateway(work: Path, vhost_url: str, store_url: str, cprofile: Path | None = None) -> subprocess.Popen[bytes]:
    """A ``b2b-gateway run`` process (``BENCH_B2B_X=v`` in this environment sets ``B2B_X=v`` for it)."""
    env = child_env(
        {
            "B2B_AMQP__URL": vhost_url,
            "B2B_PATHS__DATA_DIR": str(work / "var"),
            "B2B_PATHS__MAPPINGS_DIR": str(work / "mappings"),
            "B2B_PATHS__CERTS_DIR": str(work / "certs"),
            "B2B_STORE__URL": store_url,
            "B2B_HTTP__ENABLED": "false",
            "B2B_SECURITY__KEY_PASSPHRASE": PASSPHRASE,
            "B2B_SECURITY__SIGNING_KEY": "ours",
            "B2B_LOGGING__FORMAT": "json",
            "B2B_LOGGING__LEVEL": "INFO",
        }
    )
    log = (work / "gateway.log").open("ab")
    profiled = ["-m", "cProfile", "-o", str(cprofile)] if cprofile else []
    command = [sys.executable, *profiled, "-m", "b2b_gateway", "run"]
    return subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=log)


async def wait_log(work: Path, event: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(1200):
        if f'"event": "{event}"' in (work / "gateway.log").read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise SystemExit((work / "gateway.log").read_text()[-3000:])
        await asyncio.sleep(0.1)
    raise SystemExit(f"no {event} in the gateway log")


async def publish(url: str, bodies: list[bytes]) -> None:
    connection = await aio_pika.connect_robust(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("b2b.in")
        for at in range(0, len(bodies), 200):
            await asyncio.gather(
                *[
                    exchange.publish(aio_pika.Message(b, message_id=uuid.uuid4().hex, delivery_mode=2), "e2e")
                    for b in bodies[at : at + 200]
                ]
            )
    finally:
        await connection.close()


async def collect(url: str, expected: int, proc: subprocess.Popen[bytes]) -> list[float]:
    """Arrival times of ``expected`` messages on the ERP queue."""
    arrivals: list[float] = []
    done = asyncio.Event()
    connection = await aio_pika.connect_robust(url)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=1000)
        queue = await channel.declare_queue("b2b.erp", passive=True)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            arrivals.append(time.perf_counter())
            await message.ack()
            if len(arrivals) >= expected:
                done.set()

        await queue.consume(on_message)
        for _ in range(6000):
            if done.is_set() or proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        return arrivals
    finally:
        await connection.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    vhost = f"b2b-e2e-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    url = f"{AMQP}/{vhost}"
    db = f"b2b_e2e_{uuid.uuid4().hex[:10]}"
    work = Path(tempfile.mkdtemp(prefix="b2b-e2e-"))
    try:
        make_certs(work / "certs", args.key_type, args.bits)
        mappings_copy(work / "mappings")
        if args.pg:
            psql(f"CREATE DATABASE {db}")
            store = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}"
        else:
            store = f"sqlite+aiosqlite:///{work / 'store.db'}"
        make = orders("MOCKBUYER", 10)
        proc = gateway(work, url, store)  # declares the topology
        await wait_log(work, "gateway.started", proc)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        await publish(url, [make(i) for i in range(args.messages)])
        proc = gateway(work, url, store, args.cprofile)
        try:
            await wait_log(work, "gateway.started", proc)
            cpu0 = cpu_seconds(proc.pid)
            arrivals = await collect(url, 2 * args.messages, proc)
            cpu = cpu_seconds(proc.pid) - cpu0
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        if len(arrivals) < 2 * args.messages:
            raise SystemExit(f"only {len(arrivals)} of {2 * args.messages} outputs arrived; see {work}/gateway.log")
        span = arrivals[-1] - arrivals[0]
        relay = await run_relay(url, make(0), args.messages)
        return {
            "store": "postgres" if args.pg else "sqlite",
            "orders": args.messages,
            "gateway_rate_per_s": round(args.messages / span, 1),
            "gateway_cpu_ms_per_order": round(cpu * 1000 / args.messages, 2),
            "relay_rate_per_s": round(relay.rate, 1),
            "ratio": round(args.messages / span / relay.rate, 3),
        }
    finally:
        rabbitmqctl("delete_vhost", vhost)
        if args.pg:
            psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")
            psql(f"DROP DATABASE IF EXISTS {db}")
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--messages", type=int, default=3000)
    parser.add_argument("--pg", action="store_true", help="the store on PostgreSQL (default: a SQLite file)")
    parser.add_argument("--key-type", choices=["rsa", "ec"], default="rsa", help="the signing key (ec: P-256)")
    parser.add_argument("--bits", type=int, default=3072, help="RSA key size")
    parser.add_argument("--cprofile", type=Path, help="run the draining gateway under cProfile, its stats written here")
    print(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
