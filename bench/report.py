"""The table the benchmark prints, with each target MET or MISSED, from the JSON it writes."""

from __future__ import annotations

from typing import Any

RELAY_SHARE = 0.5
READER_RATIO = 15.0
RSS_MB = 256.0
HALF_LOAD_P99_MS = 50.0

Row = tuple[str, str, str, str, str, str, str, str, str]
HEADER: Row = ("case", "msgs", "rate/s", "relay/s", "ratio", "p50 ms", "p99 ms", "target", "")


def _f(value: Any, digits: int = 1) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _met(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def _e2e_row(label: str, r: dict[str, Any]) -> Row:
    ratio = r.get("ratio")
    return (
        label,
        _f(r["messages"]),
        _f(r["rate_per_s"]),
        _f(r["relay_rate_per_s"]),
        _f(ratio, 2),
        _f(r["p50_ms"]),
        _f(r["p99_ms"]),
        f"≥ {RELAY_SHARE:.2f} × relay",
        _met(ratio is not None and ratio >= RELAY_SHARE),
    )


def rows(results: dict[str, Any]) -> list[Row]:
    """One row per measured case; sections absent from ``results`` are left out."""
    out: list[Row] = []
    reader = results.get("reader")
    if reader:
        baseline = " ".join(["pydifact", *([reader["pydifact_version"]] if "pydifact_version" in reader else [])])
        out.append((
            f"EDIFACT reader MB/s ({reader['megabytes']} MB)", "-", _f(reader["reader_mb_s"], 2),
            f"{_f(reader['pydifact_mb_s'], 2)} ({baseline})", _f(reader["ratio"]), "-", "-",
            f"≥ {READER_RATIO:.0f} × pydifact", _met(reader["ratio"] >= READER_RATIO),
        ))  # fmt: skip
    gw = results.get("gateway") or {}
    for r in gw.get("inbound", []):
        out.append(_e2e_row(f"inbound {r['case']} ({r['bytes']:,} B)", r))
    for r in gw.get("outbound", []):
        out.append(_e2e_row(f"outbound canonical → EDIFACT ({r['bytes']:,} B)", r))
    half = gw.get("half_load")
    if half:
        out.append((
            f"{half['case']} ({half['target_rate_per_s']:.0f}/s)", _f(half["messages"]), _f(half["rate_per_s"]),
            "-", "-", _f(half["p50_ms"]), _f(half["p99_ms"]), f"p99 < {HALF_LOAD_P99_MS:.0f} ms",
            _met(half["p99_ms"] < HALF_LOAD_P99_MS),
        ))  # fmt: skip
    procs = gw.get("processes")
    if procs:
        out.append(_e2e_row("orders-10, 1 gateway process", procs["one"]))
        out.append(_e2e_row("orders-10, run --workers 2", procs["two"]))
    mem = results.get("memory")
    if mem:
        peak = f"{mem['peak_rss_mb']:,.0f} MB"
        if mem.get("stopped"):
            peak += f" ({mem['stopped']})"
        elif not mem["completed"]:
            peak += f" (exit {mem['exit_code']})"
        out.append((
            f"peak RSS, {mem['megabytes']} MB interchange", _f(mem["messages"]), peak, "-", "-", "-", "-",
            f"< {RSS_MB:.0f} MB", _met(bool(mem["completed"]) and mem["peak_rss_mb"] < RSS_MB),
        ))  # fmt: skip
    return out


def table(results: dict[str, Any]) -> str:
    """The results as a Markdown table (readable in a terminal, pasteable into the docs)."""
    lines = [HEADER, *rows(results)]
    widths = [max(len(r[i]) for r in lines) for i in range(len(HEADER))]
    text = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in lines]
    text.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    gw = results.get("gateway") or {}
    if gw.get("store"):
        text.append(f"\ngateways: store {gw['store']}, signing key {gw.get('signing', 'RSA 3072')}")
    half = gw.get("half_load") or {}
    if "p99_ms_per_round" in half:
        pauses = ", ".join(f"{p:.0f}" for p in half.get("gc_pauses_ms", [])) or "none"
        stalls = ", ".join(f"{p:.0f}" for p in half.get("loop_stalls_ms", [])) or "none"
        text.append(
            f"half load: p99 per round {half['p99_ms_per_round']} ms; collector pauses ≥ 40 ms: {pauses}; "
            f"event-loop stalls ≥ 40 ms: {stalls}"
        )
        steal = half.get("steal_per_round")
        if steal:
            shares = ", ".join(f"{r['steal']:.0%} (worst 0.25 s: {r['worst_window_steal']:.0%})" for r in steal)
            text.append(f"half load: CPU taken by the hypervisor (steal) per round: {shares}")
    procs = gw.get("processes") or {}
    if "cpu" in procs.get("one", {}) and "cpu" in procs.get("two", {}):
        one, two = procs["one"]["cpu"], procs["two"]["cpu"]
        text.append(f"processes: 1 process: {_cpu(one)} → run --workers 2: {_cpu(two)}")
    return "\n".join(text)


def _cpu(use: dict[str, Any]) -> str:
    return (
        f"gateway CPU {use['gateway_cores']:.2f} cores ({use['cpu_ms_per_document']:.1f} ms a document), "
        f"machine {use['machine_busy']:.0%} busy"
    )


def profile_table(profile: dict[str, Any]) -> str:
    """Milliseconds per message and stage, one column per document kind."""
    kinds = [k for k in ("orders-10", "ubl-invoice") if k in profile]
    names = list(profile[kinds[0]]["stages_ms"]) if kinds else []
    lines = ["| stage | " + " | ".join(f"{k} ms/msg" for k in kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_f(profile[k]["stages_ms"].get(name), 3) for k in kinds) + " |")
    outside = " | ".join(_f(profile[k]["outside_stages_ms"], 3) for k in kinds)
    lines.append(f"| (runner, acknowledgments) | {outside} |")
    lines.append("| **total** | " + " | ".join(_f(profile[k]["total_ms_per_message"], 3) for k in kinds) + " |")
    return "\n".join(lines)
