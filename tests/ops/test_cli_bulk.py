"""``messages replay-matching``: a filtered bulk replay with a progress bar, recorded in the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CliRunner
from tests.ops.live import live_gateway


async def test_replay_matching_replays_every_selected_message(cli: CliRunner, tmp_path: Path) -> None:
    async with live_gateway(tmp_path / "gw") as live:
        env = {"B2B_PATHS__DATA_DIR": str(live.settings.paths.data_dir), "COLUMNS": "120"}
        r = cli("messages", "replay-matching", "--state", "rejected", "--partner", "ACME", "--json", env=env)
        assert r.returncode == 0, r.stderr
        done = json.loads(r.stdout)
        assert sorted(d["replayed"] for d in done) == sorted([live.ids["broken1"], live.ids["broken2"]])
        for d in done:
            detail = await live.repo.get(d["replayed"])
            replay = next(e for e in detail.events if e["stage"] == "replay")
            assert replay["actor"] and d["as"] in replay["detail"]
        r = cli("messages", "replay-matching", "--state", "quarantined", "--yes", "--actor", "olga", env=env)
        assert r.returncode == 0 and "1 message(s) replayed" in r.stderr and "replaying" in r.stderr
        r = cli("messages", "replay-matching", "--partner", "NOBODY", "--yes", env=env)
        assert r.returncode == 0 and "no message matches" in r.stderr
        r = cli("messages", "replay-matching", "--since", "yesterday", env=env)
        assert r.returncode == 2 and "not an ISO date" in r.stderr
