"""``b2b-gateway run --workers N``: a supervisor, a primary and workers on one RabbitMQ vhost and one
PostgreSQL store, as real processes; and the supervisor's policy with stand-in children."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from b2b_gateway.runtime.supervisor import Slot, Supervisor, restart_delay, watch_parent
from tests.conftest import CliRunner, run_env
from tests.delivery.conftest import order
from tests.ops.test_run_process import metric, wait_for

TOKEN = "workers-token-0123456789"


class Running:
    """A ``b2b-gateway run --workers N`` process; its JSON log lines collected as they come."""

    def __init__(self, root: Path, env: dict[str, str], workers: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "b2b_gateway", "run", "--workers", str(workers)],
            cwd=root,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.raw.append(line)
            if line.startswith("{"):
                self.lines.append(json.loads(line))

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in list(self.lines) if line.get("event") == event]

    def log(self) -> str:
        return "".join(self.raw[-80:])


@pytest.fixture
def workers_env(tmp_path: Path, vhost: str, pg_url: str) -> dict[str, str]:
    return run_env(tmp_path, TOKEN, B2B_AMQP__URL=vhost, B2B_STORE__URL=pg_url, B2B_PROCESS__RESTART_MAX_S="0.5")


@pytest.fixture
def two(tmp_path: Path, workers_env: dict[str, str]) -> Iterator[Running]:
    running = Running(tmp_path, workers_env, 2)
    try:
        wait_for("two gateways started", lambda: len(running.events("gateway.started")) == 2 or running.proc.poll())
        assert running.proc.poll() is None, running.log()
        yield running
    finally:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait(timeout=30)
        for event in running.events("process.started"):  # no process outlives the test
            with_pid = int(event["pid"])
            wait_for(f"process {with_pid} to end", lambda p=with_pid: not _alive(p), limit_s=60)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:  # a zombie is gone for our purpose
        return stat.read().split(") ", 1)[1][0] != "Z"


def _drop_orders(inbox: Path, prefix: str, count: int) -> set[str]:
    numbers = {f"{prefix}-{i:03d}" for i in range(count)}
    for number in numbers:
        tmp = inbox / f".{number}.tmp"
        tmp.write_bytes(order(number))
        tmp.rename(inbox / f"{number}.json")
    return numbers


def _delivered(client: httpx.Client, numbers: set[str]) -> list[dict[str, Any]]:
    items = client.get("/api/v1/messages", params={"state": "delivered", "limit": 500}).json()["items"]
    return [i for i in items if i["business_key"] in numbers]


def test_workers_share_the_queues_sum_their_metrics_and_come_back_when_killed(tmp_path: Path, two: Running) -> None:
    (listening,) = two.events("http.listening")  # only the primary serves HTTP
    primary, worker = (e for e in two.events("process.started"))
    assert (primary["process"], worker["process"]) == ("primary", "worker-1")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=listening["url"], headers=headers, timeout=30) as client:
        numbers = _drop_orders(tmp_path / "var" / "in", "PO-W", 40)
        wait_for("40 orders delivered", lambda: len(_delivered(client, numbers)) == 40)
        items = _delivered(client, numbers)
        nodes = {client.get(f"/api/v1/messages/{i['id']}").json()["metadata"]["node"] for i in items}
        pids = {int(node.split(":")[1]) for node in nodes}
        assert pids == {primary["pid"], worker["pid"]}  # RabbitMQ gave both processes documents
        taken = two.events("pickup.taken")
        assert len(taken) == 40 and {e["process"] for e in taken} == {"primary"}  # the worker keeps out of it

        text = client.get("/metrics").text  # counted in two processes, summed at the scrape
        assert metric(text, "b2b_messages_total", direction="inbound", document_type="order", status="routed") == 40
        assert metric(text, "b2b_delivery_attempts_total", destination="erp", verdict="delivered") == 40
        assert metric(text, "b2b_stage_duration_seconds_count", direction="inbound", stage="map") == 40
        assert metric(text, "b2b_outbox_entries", state="delivered") == 40  # a gauge, from the store
        assert metric(text, "b2b_build_info") == 1

        os.kill(worker["pid"], signal.SIGKILL)  # a worker dies: started again, and work goes on
        wait_for("the worker started again", lambda: len(two.events("gateway.started")) == 3)
        (exited,) = two.events("process.exited")
        assert exited["process"] == "worker-1" and exited["exit_code"] == -signal.SIGKILL
        again = two.events("process.started")[-1]
        assert again["process"] == "worker-1" and again["pid"] != worker["pid"]
        more = _drop_orders(tmp_path / "var" / "in", "PO-X", 10)
        wait_for("10 more delivered", lambda: len(_delivered(client, more)) == 10)
        text = client.get("/metrics").text  # the dead worker's counts stay in the sum
        assert metric(text, "b2b_messages_total", direction="inbound", document_type="order", status="routed") == 50

    children = [e["pid"] for e in two.events("process.started")]
    two.proc.send_signal(signal.SIGKILL)  # the supervisor itself dies: its processes stop by themselves
    two.proc.wait(timeout=30)
    wait_for("the processes to notice", lambda: len(two.events("supervisor.gone")) == 2, limit_s=60)
    for pid in children:
        wait_for(f"process {pid} to end", lambda p=pid: not _alive(p), limit_s=60)


def test_workers_need_rabbitmq_and_are_not_for_once(cli: CliRunner, tmp_path: Path) -> None:
    env = {"B2B_PATHS__DATA_DIR": str(tmp_path / "var")}
    embedded = cli("run", "--workers", "2", env=env)
    assert embedded.returncode == 2
    assert "2 processes need RabbitMQ" in embedded.stderr and "process.workers" in embedded.stderr
    assert "B2B_AMQP__URL" in embedded.stderr
    once = cli("run", "--once", "--workers", "2", env={**env, "B2B_AMQP__URL": "amqp://guest:guest@127.0.0.1/"})
    assert once.returncode == 2 and "--once runs one process" in once.stderr
    assert not (tmp_path / "var" / "store.db").exists()  # nothing was started


# --- the supervisor's policy, with small stand-in processes -----------------------------------------------

SLEEPER = "import pathlib, sys, time; pathlib.Path(sys.argv[1]).touch(); time.sleep(600)"


def test_restart_delays_double_up_to_the_longest() -> None:
    assert [restart_delay(n, 5.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 5.0]


async def test_a_process_that_keeps_failing_to_start_stops_the_supervisor() -> None:
    starts: list[Slot] = []

    def command(slot: Slot, ready: Path) -> list[str]:
        starts.append(slot)
        return [sys.executable, "-c", "raise SystemExit(3)"]

    supervisor = Supervisor(command, 2, restart_max_s=0.05, give_up_after=3)
    code = await asyncio.wait_for(supervisor.run(asyncio.Event()), timeout=60)
    assert code == 1
    assert starts == [Slot("primary")] * 3  # the workers wait for a primary that never became ready
    assert not supervisor.running


async def test_the_supervisor_restarts_an_exited_worker_and_stops_every_process() -> None:
    def command(slot: Slot, ready: Path) -> list[str]:
        return [sys.executable, "-c", SLEEPER, str(ready)]

    supervisor = Supervisor(command, 3, restart_max_s=0.05, stop_timeout_s=10)
    stop = asyncio.Event()
    task = asyncio.create_task(supervisor.run(stop))
    for _ in range(600):
        if len(supervisor.running) == 3:
            break
        await asyncio.sleep(0.05)
    assert [s.name for s in supervisor.running] == ["primary", "worker-1", "worker-2"]
    first = supervisor.running[Slot("worker", 2)].process
    first.kill()
    for _ in range(600):
        again = supervisor.running.get(Slot("worker", 2))
        if again is not None and again.process.pid != first.pid:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("worker-2 was not started again")
    processes = [r.process for r in supervisor.running.values()]
    stop.set()
    assert await asyncio.wait_for(task, timeout=60) == 0
    assert all(p.returncode == -signal.SIGTERM for p in processes)  # asked to stop, not killed
    assert not supervisor.running


async def test_a_process_stops_when_its_supervisor_is_gone() -> None:
    stop = asyncio.Event()
    await asyncio.wait_for(watch_parent(os.getppid() + 1_000_000, stop), timeout=10)
    assert stop.is_set()
    still = asyncio.Event()
    watching = asyncio.create_task(watch_parent(os.getppid(), still, every_s=0.01))
    await asyncio.sleep(0.1)
    assert not still.is_set()
    still.set()
    await watching


def test_a_slot_names_itself() -> None:
    assert (Slot("primary").name, Slot("worker", 3).name) == ("primary", "worker-3")


def test_a_stop_in_the_middle_of_a_burst_loses_nothing(tmp_path: Path, workers_env: dict[str, str]) -> None:
    """SIGTERM to the supervisor while both processes work: each finishes or leaves to the broker what it
    holds, exits 0, and the next start delivers the rest, each order once."""
    first = Running(tmp_path, workers_env, 2)
    wait_for("two gateways started", lambda: len(first.events("gateway.started")) == 2 or first.proc.poll())
    (listening,) = first.events("http.listening")
    numbers = _drop_orders(tmp_path / "var" / "in", "PO-S", 60)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=listening["url"], headers=headers, timeout=30) as client:
        wait_for("some orders delivered", lambda: _delivered(client, numbers))
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(timeout=90) == 0, first.log()
    assert len(first.events("gateway.stopped")) == 2 and first.events("supervisor.stopped")
    assert not first.events("process.exited") and not first.events("process.killed")

    second = Running(tmp_path, workers_env, 2)
    try:
        wait_for("two gateways started", lambda: len(second.events("gateway.started")) == 2 or second.proc.poll())
        (listening,) = second.events("http.listening")
        with httpx.Client(base_url=listening["url"], headers=headers, timeout=30) as client:
            wait_for("every order delivered", lambda: len(_delivered(client, numbers)) == 60)
            everything = client.get("/api/v1/messages", params={"direction": "inbound", "limit": 500}).json()
            inbound = [i for i in everything["items"] if i["business_key"] in numbers]
            assert len(inbound) == 60  # each order stored once, though some were taken by both starts
    finally:
        second.proc.send_signal(signal.SIGTERM)
        assert second.proc.wait(timeout=90) == 0, second.log()
