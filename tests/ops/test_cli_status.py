"""``b2b-gateway status`` as people run it, against the store of a seeded gateway."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CliRunner
from tests.ops.live import live_gateway


async def test_status_tables_json_and_exit_codes(cli: CliRunner, tmp_path: Path) -> None:
    async with live_gateway(tmp_path / "gw") as live:
        env = {
            "B2B_PATHS__DATA_DIR": str(live.settings.paths.data_dir),
            "B2B_PATHS__CERTS_DIR": str(live.settings.paths.certs_dir),
            "B2B_SECURITY__KEY_PASSPHRASE": "pass-phrase",
            "COLUMNS": "160",
        }
        r = cli("status", env=env)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("ready at ")
        for needle in ("messages by state", "delivered", "17", "b2b.in.gateway.dead (dead letters)", "mockedi"):
            assert needle in r.stdout, needle
        r = cli("status", "--json", "--hours", "48", env=env)
        data = json.loads(r.stdout)
        assert data["ready"] and data["states"] == {"delivered": 17, "rejected": 2, "quarantined": 1}
        assert len(data["throughput"]) >= 48 and sum(b["received"] for b in data["throughput"]) == 20
        assert {q["name"]: q["messages"] for q in data["queues"]}["b2b.in.gateway"] == 3
        assert [c["name"] for c in data["certificates_expiring"]] == ["mockedi"]
        r = cli("status", env={**env, "B2B_SECURITY__KEY_PASSPHRASE": "not-the-pass-phrase"})
        assert r.returncode == 1 and "NOT READY" in r.stdout and "CONFIG_KEYSTORE" in r.stdout
        assert "not-the-pass-phrase" not in r.stdout + r.stderr
