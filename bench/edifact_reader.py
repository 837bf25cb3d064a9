"""Benchmark: the gateway's EDIFACT reader against pydifact's tokenizer, same input, same run.

Run: ``.venv/bin/python bench/edifact_reader.py [--megabytes 2] [--rounds 5]``. Prints MB/s for

* ``tokenizer``: :func:`b2b_gateway.formats.edifact.tokenizer.tokenize` (located segments whose elements
  split on first access; the garbage collector paused as the reader pauses it),
* ``reader``: :func:`b2b_gateway.formats.edifact.reader.read` (tokenizing, envelopes, control counts,
  character checks: everything before structure validation),
* ``reader+validate``: the reader and the directory-driven structure validation of every message,
* ``pydifact``: ``pydifact.parser.Parser().parse`` consumed to the end (its tokenizer and segments),

and the ratios. The input is a generated ORDERS interchange (D96A, EANCOM-like lines, about one
segment in forty holding a release character, a line break after each segment).
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable

_LINES = [
    "BGM+220+PO{n}+9",
    "DTM+137:20240101:102",
    "DTM+2:20240115:102",
    "FTX+AAI+++Please deliver to gate 4?: ring the bell?+ask for Mr O?'Brien",
    "RFF+ON:{n}",
    "NAD+BY+5412345000013::9++BUYER COMPANY+MAIN STREET 1+BRUSSELS++1000+BE",
    "NAD+SU+5412345000020::9++SUPPLIER LTD+INDUSTRY ROAD 7+GHENT++9000+BE",
    "NAD+DP+5412345000037::9",
    "CUX+2:EUR:9",
]
_ITEM = [
    "LIN+{i}++54123450{i:05d}:EN",
    "PIA+1+ART{i}:SA",
    "IMD+F++:::ARTICLE {i} DESCRIPTION",
    "QTY+21:{q}",
    "MOA+203:{m}.00",
    "PRI+AAA:{p}.50",
]


def interchange(megabytes: float, seed: int = 7) -> bytes:
    """A generated ORDERS interchange of about ``megabytes``."""
    rng = random.Random(seed)
    out = ["UNB+UNOC:3+5412345000013:14+5412345000020:14+240101:1200+1"]
    target = int(megabytes * 1_000_000)
    size, n = 0, 0
    while size < target:
        n += 1
        seg = [f"UNH+{n}+ORDERS:D:96A:UN:EAN008", *(line.format(n=n) for line in _LINES)]
        for i in range(1, rng.randint(5, 40)):
            seg += [x.format(i=i, q=rng.randint(1, 99), p=rng.randint(1, 99), m=rng.randint(1, 999)) for x in _ITEM]
        seg += ["UNS+S", "CNT+2:" + str(len(seg)), f"UNT+{len(seg) + 3}+{n}"]
        out += seg
        size += sum(len(s) + 2 for s in seg)
    out.append(f"UNZ+{n}+1")
    return ("UNA:+.? '\n" + "'\n".join(out) + "'\n").encode("latin-1")


def best(fn: Callable[[], object], rounds: int, *, pause_gc: bool = False) -> float:
    """The best of ``rounds`` timings (the cyclic collector paused when asked, as ``read`` does itself)."""
    times = []
    for _ in range(rounds):
        if pause_gc:
            gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    from pydifact.parser import Parser

    from b2b_gateway.formats.edifact.model import Delimiters
    from b2b_gateway.formats.edifact.reader import read
    from b2b_gateway.formats.edifact.tokenizer import tokenize
    from b2b_gateway.formats.edifact.validator import validate_message

    data = interchange(args.megabytes)
    text = data.decode("latin-1")
    mb = len(data) / 1_000_000
    result = read(data)
    assert result.ok, result.findings[:3]
    segments = sum(len(m.segments) for ic in result.interchanges for m in ic.messages)

    def reader_and_validate() -> None:
        for ic in read(data).interchanges:
            for msg in ic.messages:
                validate_message(msg, ic)

    timings = {
        "tokenizer": best(lambda: tokenize(text, 10, Delimiters(explicit=True)), args.rounds, pause_gc=True),
        "reader": best(lambda: read(data), args.rounds),
        "reader+validate": best(reader_and_validate, max(1, args.rounds // 2)),
        "pydifact": best(lambda: sum(1 for _ in Parser().parse(text)), max(1, args.rounds // 3)),
    }
    print(f"input: {mb:.2f} MB, {segments} message segments, {len(result.interchanges[0].messages)} messages")
    for name, seconds in timings.items():
        print(f"{name:>16}: {mb / seconds:8.2f} MB/s  ({seconds * 1000:8.1f} ms)")
    base = timings["pydifact"]
    for name in ("tokenizer", "reader", "reader+validate"):
        print(f"{name:>16} vs pydifact: {base / timings[name]:6.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
