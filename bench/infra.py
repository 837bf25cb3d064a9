"""The benchmark's real parts: a private RabbitMQ vhost, a private PostgreSQL database, a gateway workspace
(the shipped partners, a signing key, the official schemas) and ``b2b-gateway run`` processes.

The same approach as the failure drills (``tests/delivery/drills.py``), without importing the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("B2B_SHARED", ROOT.parent / "shared")).resolve()
AMQP_BASE = os.environ.get("BENCH_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qAtc"]
PASSPHRASE = "bench-only-passphrase"
PARTNER_EXCHANGE = "bench.partner"
"""Where the outbound partner (MOCKEDI) receives its EDIFACT in the benchmark (an ``amqp`` channel)."""

DEADLINE_S = 600.0
"""How long the benchmark waits for something before it gives up (a hang guard)."""


class BenchError(RuntimeError):
    """The benchmark could not measure what it should (documents rejected, a process died, a hang)."""


def _run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, env=env, cwd=cwd)
    if out.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:4])} … failed: {out.stderr.strip() or out.stdout.strip()}")
    return out.stdout


@dataclass
class Services:
    """A private vhost and (optionally) a private PostgreSQL database, removed by :meth:`close`."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    vhost: str = ""
    database: str = ""

    @property
    def amqp_url(self) -> str:
        return f"{AMQP_BASE}/{self.vhost}"

    def open_vhost(self) -> str:
        self.vhost = f"b2b-bench-{self.tag}"
        _run(["rabbitmqctl", "-q", "add_vhost", self.vhost])
        _run(["rabbitmqctl", "-q", "set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*"])
        return self.amqp_url

    def open_database(self) -> str:
        self.database = f"b2b_bench_{self.tag}"
        _run([*PG_ADMIN, f"CREATE DATABASE {self.database}"])
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.database}"

    def close(self) -> None:
        if self.vhost:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", self.vhost], capture_output=True, timeout=120)
        if self.database:
            kick = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.database}'"
            subprocess.run([*PG_ADMIN, kick], capture_output=True, timeout=60)
            subprocess.run([*PG_ADMIN, f"DROP DATABASE IF EXISTS {self.database}"], capture_output=True, timeout=60)


def _channels_to_directory(profile: dict[str, Any], root: Path) -> None:
    profile["channels"] = [
        {"name": c.get("name", "default"), "kind": "directory", "path": str(root / "partners" / profile["id"])}
        for c in profile.get("channels", [])
    ]


def prepare_mappings(root: Path) -> Path:
    """A copy of the shipped ``mappings/`` whose partner channels lead where the benchmark can observe them.

    Only the channels change: MOCKEDI (outbound ORDERS) gets an ``amqp`` channel to :data:`PARTNER_EXCHANGE`
    with routing key ``MOCKEDI``; MOCKBUYER and MOCKEINVOICE (inbound) deliver their acknowledgments to
    directories instead of the mocks' HTTP and AS2 endpoints.
    """
    target = root / "mappings"
    shutil.copytree(ROOT / "mappings", target)
    for pid in ("MOCKBUYER", "MOCKEINVOICE", "MOCKEDI"):
        path = target / pid / "partner.yaml"
        profile = yaml.safe_load(path.read_text(encoding="utf-8"))
        if pid == "MOCKEDI":
            name = profile["channels"][0]["name"]
            profile["channels"] = [{"name": name, "kind": "amqp", "exchange": PARTNER_EXCHANGE, "routing_key": pid}]
        else:
            _channels_to_directory(profile, root)
        path.write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    return target


def gateway_env(root: Path, amqp_url: str | None, store_url: str | None) -> dict[str, str]:
    """The settings of a benchmark gateway: production defaults, its own data, keys and partner files."""
    env = {
        "B2B_COMPANY_ID": "EURODIS",
        "B2B_PATHS__DATA_DIR": str(root / "var"),
        "B2B_PATHS__MAPPINGS_DIR": str(root / "mappings"),
        "B2B_PATHS__CERTS_DIR": str(root / "certs"),
        "B2B_SECURITY__KEY_PASSPHRASE": PASSPHRASE,
        "B2B_HTTP__ENABLED": "false",
        "B2B_LOGGING__FORMAT": "json",
        "B2B_LOGGING__LEVEL": "INFO",
    }
    if amqp_url:
        env["B2B_AMQP__URL"] = amqp_url
    if store_url:
        env["B2B_STORE__URL"] = store_url
    return env


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any ``B2B_`` setting, plus ``extra``; ``BENCH_B2B_X=v`` becomes
    ``B2B_X=v`` last (a setting to compare, e.g. ``BENCH_B2B_STORE__OUTCOME_LINGER_MS=0``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("B2B_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    env.update(extra)
    env.update({k.removeprefix("BENCH_"): v for k, v in os.environ.items() if k.startswith("BENCH_B2B_")})
    return env


def cli(*args: str) -> list[str]:
    """The command line of ``b2b-gateway ARGS`` with this interpreter."""
    return [sys.executable, "-m", "b2b_gateway", *args]


KEY_TYPES = {"ec": "ECDSA P-256", "rsa": "RSA 3072"}
"""The gateway's signing key in the benchmark (``--key-type``): what ``certs generate`` makes of each."""


def prepare_workspace(
    root: Path, amqp_url: str | None = None, store_url: str | None = None, key_type: str = "ec"
) -> dict[str, str]:
    """Mappings, a signing key (``key_type``, see :data:`KEY_TYPES`) and the official schemas (UBL XSD,
    EN 16931 rules) under ``root``; returns the gateway's environment."""
    root.mkdir(parents=True, exist_ok=True)
    prepare_mappings(root)
    env = gateway_env(root, amqp_url, store_url)
    size = "256" if key_type == "ec" else "3072"
    _run(cli("certs", "generate", "gateway", "--key-type", key_type, "--bits", size), env=child_env(env), cwd=root)
    if (SHARED / "reference").is_dir():
        _run(cli("schemas", "install", "--from", str(SHARED / "reference")), env=child_env(env), cwd=root)
    else:
        raise BenchError(f"reference data not found at {SHARED} (set B2B_SHARED)")
    return env


@dataclass
class GatewayProcess:
    """``b2b-gateway run`` as a real process, logging JSON lines to a file."""

    workdir: Path
    env: dict[str, str]
    name: str = "gw"
    proc: subprocess.Popen[bytes] | None = None
    workers: int = 1
    """Above 1: ``run --workers N``, a supervisor and N gateway processes."""
    before: int = 0
    """``gateway.started`` lines in the log before this start (a log file may hold an earlier run's)."""

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> GatewayProcess:
        self.before = self.logged("gateway.started")
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                cli("run", *(["--workers", str(self.workers)] if self.workers > 1 else [])),
                cwd=self.workdir,
                env=child_env(self.env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def logged(self, event: str) -> int:
        if not self.log.exists():
            return 0
        return self.log.read_text(errors="replace").count(f'"event": "{event}"')

    def logged_ms(self, event: str) -> list[float]:
        """The ``ms`` of every ``event`` line the gateway logged (``gc.pause``, ``loop.stall``)."""
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            if f'"{event}"' in line:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    out.append(float(json.loads(line)["ms"]))
        return out

    def gc_pauses(self) -> list[float]:
        """The garbage-collector pauses the gateway logged (``gc.pause``, from ``process.gc_log_ms``), in ms."""
        return self.logged_ms("gc.pause")

    def loop_stalls(self) -> list[float]:
        """How late the gateway's event loop woke, where it logged it (``loop.stall``, ``process.loop_stall_ms``)."""
        return self.logged_ms("loop.stall")

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise BenchError(f"gateway {self.name} exited with {self.proc.returncode}:\n{tail}")

    async def started(self) -> None:
        end = time.monotonic() + DEADLINE_S
        while self.logged("gateway.started") - self.before < self.workers:
            self.check_alive()
            if time.monotonic() > end:
                raise BenchError(f"gateway {self.name} did not start")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
