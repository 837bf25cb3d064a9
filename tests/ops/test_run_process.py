"""``b2b-gateway run`` as deployed: a real process serving health, metrics, the API and the dashboard."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import FIXTURES, run_env

TOKEN = "process-token-0123456789"


def wait_for(what: str, check: object, *, limit_s: float = 60.0) -> object:
    """Poll ``check()`` until it returns something truthy (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = check()  # type: ignore[operator]
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    env = run_env(tmp_path, TOKEN, B2B_SECURITY__ADMIN_PASSWORD="admin-password-1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "b2b_gateway", "run"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    url = None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if '"http.listening"' in line:
            url = json.loads(line)["url"]
            break
    assert url, "".join(seen)
    try:
        yield url, tmp_path
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.stderr.read()
        assert proc.wait(timeout=60) == 0, out
        assert "admin-password-1" not in out and TOKEN not in out


def metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_health_metrics_api_and_dashboard_of_a_running_gateway(gateway: tuple[str, Path]) -> None:
    url, root = gateway
    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/healthz").text == "ok\n"
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"store": "ok", "broker": "ok", "keys": "ok"}
        assert metric(client.get("/metrics").text, "b2b_build_info") == 1
        assert client.get("/api/v1/messages").status_code == 401
        shutil.copy(FIXTURES / "canonical" / "order.json", root / "var" / "in" / "order.json")
        bearer = {"Authorization": f"Bearer {TOKEN}"}

        def delivered() -> list[dict[str, object]]:
            items = client.get("/api/v1/messages", headers=bearer, params={"q": "PO-2026-0001"}).json()["items"]
            return [i for i in items if i["state"] == "delivered"]

        (item,) = wait_for("the order to be delivered", delivered)  # type: ignore[misc]
        text = client.get("/metrics").text
        labels = {"direction": "inbound", "document_type": "order", "status": "routed"}
        assert metric(text, "b2b_messages_total", **labels) == 1  # handed to the outbox relay …
        assert metric(text, "b2b_outbox_entries", state="delivered") == 1  # … which delivered it
        assert metric(text, "b2b_delivery_attempts_total", destination="erp", verdict="delivered") == 1
        assert metric(text, "b2b_stage_duration_seconds_count", stage="map", direction="inbound") >= 1
        queues = client.get("/api/v1/queues", headers=bearer).json()
        assert "b2b.in.gateway" in {q["name"] for q in queues}
        r = client.post("/login", data={"username": "admin", "password": "admin-password-1"})
        assert r.status_code == 303
        page = client.get(f"/messages/{item['id']}")
        assert page.status_code == 200 and "PO-2026-0001" in page.text and "Audit trail" in page.text
        assert (root / "var" / "erp").is_dir() and any((root / "var" / "erp").iterdir())
