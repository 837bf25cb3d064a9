"""Section: the gateway's EDIFACT reader against pydifact, MB/s on the same generated interchange."""

from __future__ import annotations

import warnings
from importlib.metadata import version
from typing import Any

from bench.edifact_reader import best, interchange


def run_reader(megabytes: float, rounds: int) -> dict[str, Any]:
    """MB/s of ``read`` (tokenizing, envelopes, counts, character checks) and of pydifact's parser."""
    from pydifact.parser import Parser

    from b2b_gateway.formats.edifact.reader import read

    data = interchange(megabytes)
    text = data.decode("latin-1")
    mb = len(data) / 1_000_000
    if not read(data).ok:
        raise RuntimeError("the generated interchange does not read cleanly")
    reader_s = best(lambda: read(data), rounds)
    with warnings.catch_warnings():  # pydifact warns about every directory it has no XML for
        warnings.simplefilter("ignore")
        pydifact_s = best(lambda: sum(1 for _ in Parser().parse(text)), max(1, rounds // 2))
    return {
        "megabytes": round(mb, 2),
        "reader_mb_s": round(mb / reader_s, 2),
        "pydifact_mb_s": round(mb / pydifact_s, 2),
        "ratio": round(pydifact_s / reader_s, 1),
        "pydifact_version": version("pydifact"),
    }
