"""``b2b-gateway users`` as people run it: a subprocess, the users file, no secrets printed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CliRunner


def test_add_list_and_change_password(cli: CliRunner, tmp_path: Path) -> None:
    env = {"B2B_PATHS__DATA_DIR": str(tmp_path / "var"), "B2B_SECURITY__ADMIN_PASSWORD": "bootstrap-secret"}
    r = cli("users", "add", "olga", "--role", "operator", "--password-stdin", input="olga-password\n", env=env)
    assert r.returncode == 0, r.stderr
    assert "added olga (operator)" in r.stderr
    r = cli("users", "list", "--json", env=env)
    assert r.returncode == 0 and json.loads(r.stdout) == [
        {"name": "admin", "role": "admin", "created_at": "", "builtin": True},
        {"name": "olga", "role": "operator", "created_at": json.loads(r.stdout)[1]["created_at"], "builtin": False},
    ]
    r = cli("users", "list", env=env)
    assert "olga" in r.stdout and "operator" in r.stdout and "bootstrap-secret" not in r.stdout + r.stderr
    assert "olga-password" not in (tmp_path / "var" / "users.json").read_text()
    r = cli("users", "add", "olga", "--password-stdin", input="another-password\n", env=env)
    assert r.returncode == 1 and "already exists" in r.stderr and "Traceback" not in r.stderr
    r = cli("users", "passwd", "nobody", "--password-stdin", input="whatever-password\n", env=env)
    assert r.returncode == 1 and "NOT_FOUND" in r.stderr
    r = cli("users", "passwd", "olga", "--password-stdin", input="new-password-1\n", env=env)
    assert r.returncode == 0 and "changed" in r.stderr
