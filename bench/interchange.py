"""A deterministic ORDERS interchange of any number of messages, for the memory benchmark and the tests.

``write_orders(path, 100_000)`` writes about 100 MB: an interchange from MOCKBUYER (a shipped partner
profile without a signature policy, so the file goes through the real inbound path unchanged) whose
messages each map to a canonical order (``PO-<n>``, a different business key each). The text is made
chunk by chunk (:func:`orders_chunks`), never held whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

__all__ = ["MESSAGE_BYTES", "orders_chunks", "orders_message", "write_orders"]

_HEAD = "UNA:+.? '\nUNB+UNOC:3+MOCKBUYER:ZZ+EURODIS:14+260301:1200+{ref}++++++1'\n"
_BODY = (
    "BGM+220+PO-{n}+9'\n"
    "DTM+137:20260301:102'\n"
    "DTM+2:20260310:102'\n"
    "FTX+AAI+++Deliver to gate 4?: ring the bell'\n"
    "NAD+BY+MOCKBUYER::92++Mock EDI Supply Co+500 Seaport Boulevard+Boston+MA+02210+US'\n"
    "NAD+SU+EURODIS::92++Eurodis Handels GmbH+Hafenstrasse 12+Hamburg+HH+20457+DE'\n"
    "NAD+DP+MOCKBUYER::92++Mock EDI Supply Co+500 Seaport Boulevard+Boston+MA+02210+US'\n"
    "CUX+2:EUR:9'\n"
)
_LINE = (
    "LIN+{i}++WIDGET-{i:03d}:VP'\nPIA+1+0761234{n:05d}{i}:UP'\nIMD+F++:::Widget {i}?: blue, 40mm, boxed'\n"
    "QTY+21:{q}:PCE'\nPRI+AAA:12.50'\n"
)
MESSAGE_BYTES = 1000
"""About how many bytes each message takes (with the default five lines)."""


def orders_message(n: int, lines: int = 5) -> str:
    """Message ``n`` (reference ``n``, order ``PO-<n>``) with ``lines`` order lines; quantities vary with ``n``."""
    body = _BODY.format(n=n) + "".join(
        _LINE.format(i=i, n=n % 100_000, q=1 + (n * 7 + i) % 97) for i in range(1, lines + 1)
    )
    segments = 2 + body.count("'\n") + 2
    return f"UNH+{n}+ORDERS:D:96A:UN'\n{body}UNS+S'\nCNT+2:{lines}'\nUNT+{segments}+{n}'\n"


def orders_chunks(messages: int, *, lines: int = 5, control_ref: str = "1", per_chunk: int = 256) -> Iterator[bytes]:
    """The interchange of ``messages`` messages, ``per_chunk`` messages per yielded chunk."""
    yield _HEAD.format(ref=control_ref).encode("latin-1")
    for start in range(1, messages + 1, per_chunk):
        stop = min(start + per_chunk, messages + 1)
        yield "".join(orders_message(n, lines) for n in range(start, stop)).encode("latin-1")
    yield f"UNZ+{messages}+{control_ref}'\n".encode("latin-1")


def write_orders(path: Path, messages: int, *, lines: int = 5, control_ref: str = "1") -> Path:
    """Write the interchange of ``messages`` messages to ``path`` (about ``messages`` KB); returns ``path``."""
    with path.open("wb") as fh:
        for chunk in orders_chunks(messages, lines=lines, control_ref=control_ref):
            fh.write(chunk)
    return path
