"""Section: peak memory of the gateway on a big interchange (100,000 ORDERS, about 100 MB in the full run).

The file is written in pieces (never held whole here) and handed to the gateway in a child process;
its resident set size is read from ``/proc`` while it runs. The child is stopped when it passes the
plan's cap or time limit, and the result says so (a miss, not a crash). Which command the gateway
runs is :func:`memory_command`: swap it when the pipeline streams big interchanges.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.documents import big_interchange
from bench.infra import child_env, cli, prepare_workspace

LIMIT_BYTES = 512 * 1024 * 1024


def memory_command(path: Path) -> list[str]:
    """What a user runs on a big file: ``b2b-gateway translate`` (read, validate, map, check; JSON out)."""
    return cli("translate", "--partner", "MOCKBUYER", str(path))


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_memory(megabytes: float, messages: int, *, timeout_s: float, cap_mb: int) -> dict[str, Any]:
    """Peak RSS (MB) of :func:`memory_command` on a generated interchange of ``messages`` ORDERS."""
    root = Path(tempfile.mkdtemp(prefix="b2b-bench-mem-"))
    # What the gateway's hint says to do for a partner that really sends such files (the default is 64 MB).
    env = {**prepare_workspace(root), "B2B_LIMITS__MAX_DOCUMENT_BYTES": str(LIMIT_BYTES)}
    path = root / "big.edi"
    size = big_interchange(path, megabytes, messages)
    command = memory_command(path)
    start = time.perf_counter()
    peak, stopped = 0.0, ""
    proc = subprocess.Popen(command, cwd=root, env=child_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while proc.poll() is None:
            peak = max(peak, _rss_mb(proc.pid))
            if peak > cap_mb:
                stopped = f"stopped at {cap_mb} MB RSS"
            elif time.perf_counter() - start > timeout_s:
                stopped = f"stopped after {timeout_s:.0f} s"
            if stopped:
                proc.kill()
                break
            time.sleep(0.05)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
        path.unlink(missing_ok=True)
    err = proc.stderr.read().decode(errors="replace")[-500:] if proc.stderr else ""
    return {
        "command": " ".join(["b2b-gateway", *command[3:-1], path.name]),
        "megabytes": round(size / 1_000_000, 2),
        "messages": messages,
        "seconds": round(time.perf_counter() - start, 1),
        "peak_rss_mb": round(peak, 1),
        "completed": not stopped and proc.returncode == 0,
        "stopped": stopped or None,
        "exit_code": proc.returncode,
        "stderr_tail": err if proc.returncode not in (0, None) and not stopped else "",
    }
