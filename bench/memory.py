"""Peak memory of a big interchange on the path a user takes: a file dropped into the pickup directory
of ``b2b-gateway run`` (embedded defaults: SQLite store, embedded queue), and ``b2b-gateway validate``.

Run: ``.venv/bin/python -m bench.memory [--messages 100000] [--command run|validate|translate]``.
:func:`measure_peak_rss` is what the benchmark calls: it runs the command in its own process (so the
peak is that process's alone, read from ``wait4``'s resource usage) and counts what the store holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

__all__ = ["measure_peak_rss", "run_memory"]

ROOT = Path(__file__).resolve().parent.parent
Command = Literal["run", "validate", "translate"]


def _gateway() -> str:
    found = shutil.which("b2b-gateway", path=str(Path(sys.executable).parent))
    return found or "b2b-gateway"


def _environment(work: Path, extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("B2B_")}
    env.update(
        {
            "B2B_PATHS__DATA_DIR": str(work / "var"),
            "B2B_PATHS__MAPPINGS_DIR": str(ROOT / "mappings"),
            "B2B_PATHS__CERTS_DIR": str(work / "certs"),
            "B2B_HTTP__ENABLED": "false",
            "B2B_LOGGING__LEVEL": "WARNING",
            "B2B_LOGGING__FORMAT": "json",
        }
    )
    env.update(extra or {})
    return env


def _count(db: Path) -> dict[str, int]:
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select state, count(*) from messages where parent_id is not null group by state"
        ).fetchall()
    return {str(state): int(n) for state, n in rows}


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _wait(proc: subprocess.Popen[bytes], started: float, *, timeout_s: float, cap_mb: int) -> tuple[int, int, str]:
    """Wait for ``proc``: (exit code, peak RSS in KB from ``wait4``, why it was stopped or "")."""
    stopped = ""
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss, stopped
        if not stopped and _rss_kb(proc.pid) > cap_mb * 1024:
            stopped = f"stopped at {cap_mb} MB RSS"
        elif not stopped and time.perf_counter() - started > timeout_s:
            stopped = f"stopped after {timeout_s:.0f} s"
        if stopped:
            proc.kill()
        time.sleep(0.1)


def run_memory(messages: int, *, timeout_s: float, cap_mb: int) -> dict[str, Any]:
    """The benchmark's memory case: ``messages`` ORDERS (about 1 KB each) dropped into a fresh gateway's pickup."""
    from bench.interchange import write_orders

    with tempfile.TemporaryDirectory(prefix="b2b-mem-in-") as tmp:
        path = write_orders(Path(tmp) / f"orders-{messages}.edi", messages)
        result = measure_peak_rss(path, command="run", timeout_s=timeout_s, cap_mb=cap_mb)
    result["command"] = "b2b-gateway run --once (the file dropped into its pickup directory)"
    result.setdefault("messages", 0)
    return result


def measure_peak_rss(
    interchange: Path,
    *,
    command: Command = "run",
    env: dict[str, str] | None = None,
    keep: Path | None = None,
    timeout_s: float = 3600.0,
    cap_mb: int = 8192,
) -> dict[str, Any]:
    """Run the real user path on ``interchange`` in a subprocess; its peak RSS (MB), seconds and messages.

    ``run``: the file is dropped into the pickup directory of a fresh embedded gateway and ``b2b-gateway
    run --once`` processes it (messages = children stored, by state). ``validate``/``translate``: the
    command on the file (messages = the documents it reports). ``keep``: work there instead of a
    temporary directory (left in place for inspection).
    """
    work = keep or Path(tempfile.mkdtemp(prefix="b2b-mem-"))
    try:
        (work / "var" / "in").mkdir(parents=True, exist_ok=True)
        (work / "certs").mkdir(exist_ok=True)
        if command == "run":
            shutil.copyfile(interchange, work / "var" / "in" / interchange.name)
            argv = [_gateway(), "run", "--once"]
        elif command == "validate":
            argv = [_gateway(), "validate", str(interchange), "--json"]
        else:
            argv = [_gateway(), "translate", str(interchange), "-o", str(work / "out.json")]
        started = time.perf_counter()
        with open(work / "stdout", "wb") as out, open(work / "stderr", "wb") as err:
            proc = subprocess.Popen(argv, cwd=work, env=_environment(work, env), stdout=out, stderr=err)
            returncode, peak_kb, stopped = _wait(proc, started, timeout_s=timeout_s, cap_mb=cap_mb)
        seconds = time.perf_counter() - started
        result: dict[str, Any] = {
            "command": command,
            "bytes": interchange.stat().st_size,
            "megabytes": round(interchange.stat().st_size / 1_000_000, 2),
            "exit": returncode,
            "exit_code": returncode,
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "seconds": round(seconds, 2),
            "stopped": stopped or None,
            "completed": not stopped and returncode == 0,
        }
        if command == "run":
            states = _count(work / "var" / "gateway.db")
            result["states"] = states
            result["messages"] = sum(states.values())
        elif command == "validate":
            try:
                report = json.loads((work / "stdout").read_text())
                result["messages"] = report.get("document_count", len(report.get("documents", [])))
                result["valid"] = report.get("valid")
            except ValueError:
                result["messages"] = 0
        if returncode not in (0, 1):
            result["stderr"] = (work / "stderr").read_text(errors="replace")[-2000:]
        return result
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    from bench.interchange import write_orders

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--command", choices=["run", "validate", "translate"], default="run")
    parser.add_argument("--input", type=Path, default=None, help="An interchange to use instead of generating one")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="b2b-mem-in-") as tmp:
        path = args.input or write_orders(Path(tmp) / f"orders-{args.messages}.edi", args.messages)
        print(json.dumps(measure_peak_rss(path, command=args.command), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
