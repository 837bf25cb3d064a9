"""``python -m bench [--quick | --smoke] [--rounds N] [--json PATH] [--store postgres|sqlite] [--only …]``

One run measures, against the real broker and database (see docs/performance.md):

* ``reader`` — the EDIFACT reader's MB/s against pydifact's;
* ``gateway`` — end to end through ``b2b-gateway run`` processes: inbound ORDERS of 10/100/1000 lines and
  UBL invoices, outbound canonical orders to EDIFACT, each beside the raw aio-pika relay with the same
  bytes; latency at half the maximum rate; one gateway process, and two from ``run --workers 2``;
* ``memory`` — peak RSS on a big interchange (100 MB, 100,000 messages in the full run);
* ``profile`` — milliseconds per pipeline stage and message, in process.

It prints a table (targets MET or MISSED) and writes JSON (default ``bench/results/latest.json``).
``python -m bench --profile`` runs only the profile, under cProfile, and prints the costliest functions.
``--quick`` takes about 3 minutes, the full run about 15; ``--smoke`` a handful of documents (the tests).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from bench.plan import FULL, PLANS
from bench.report import profile_table, table

SECTIONS = ("reader", "gateway", "memory", "profile")
DEFAULT_JSON = Path(__file__).parent / "results" / "latest.json"


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", const="quick", dest="mode", help="about 3 minutes")
    mode.add_argument("--smoke", action="store_const", const="smoke", dest="mode", help="a handful of documents")
    parser.add_argument("--rounds", type=int, help="rounds per case (medians are reported)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write results ({DEFAULT_JSON})")
    parser.add_argument("--store", choices=("postgres", "sqlite"), default="postgres", help="the gateways' store")
    parser.add_argument(
        "--key-type", choices=("ec", "rsa"), default="ec", help="the gateway's signing key: ECDSA P-256 or RSA 3072"
    )
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument("--profile", action="store_true", help="only the stage profile, with cProfile's top")
    return parser.parse_args(argv)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the selected sections; return (and write) the results."""
    args = _args(argv)
    plan = PLANS[args.mode or FULL.mode]
    if args.rounds:
        plan = dataclasses.replace(plan, rounds=args.rounds)
    sections = ["profile"] if args.profile else (args.only or list(SECTIONS))
    started = time.perf_counter()
    results: dict[str, Any] = {
        "mode": plan.mode,
        "rounds": plan.rounds,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    for name in sections:
        print(f"== {name}", flush=True)
        results[name] = _section(name, plan, args)
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    if "profile" in results:
        top = results["profile"].pop("cprofile_top", None)
        if top:
            print(top)
        print(profile_table(results["profile"]))
    print(table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {args.json} ({results['seconds']} s)")
    return results


def _section(name: str, plan: Any, args: argparse.Namespace) -> dict[str, Any]:
    if name == "reader":
        from bench.reader import run_reader

        return run_reader(plan.reader_megabytes, plan.reader_rounds)
    if name == "gateway":
        from bench.gateway_sections import run_gateway_sections

        return asyncio.run(run_gateway_sections(plan, args.store, args.key_type))
    if name == "memory":
        from bench.memory import run_memory

        return run_memory(plan.memory_messages, timeout_s=plan.memory_timeout_s, cap_mb=plan.memory_cap_mb)
    from bench.profile import run_profile

    return asyncio.run(run_profile(plan.profile_messages, cprofile=args.profile, key_type=args.key_type))


if __name__ == "__main__":
    run()
