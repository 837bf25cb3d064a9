"""The documents the benchmark sends, derived from the shipped partners' golden samples.

* :func:`orders` — EDIFACT ORDERS D96A from MOCKBUYER (its ``orders-in`` sample) with N order lines,
  each document its own interchange with a unique interchange reference and order number;
* :func:`ubl_invoices` — MOCKEINVOICE's UBL 2.1 invoice (``invoice-in``) with unique invoice numbers;
* :func:`canonical_orders` — MOCKEDI's canonical order (``order-out``) for the outbound direction.

The memory case's big interchange comes from :mod:`bench.interchange`.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from dataclasses import dataclass

from bench.infra import ROOT

SAMPLES = ROOT / "mappings"
_COUNTER = itertools.count(1)
_BGM = re.compile(rb"BGM\+220\+([^+']+)")


@dataclass(frozen=True)
class Doc:
    """A document to publish: its key (the business key the receiving side sees) and its bytes."""

    key: str
    body: bytes


@functools.cache
def _orders_header() -> tuple[str, ...]:
    text = (SAMPLES / "MOCKBUYER" / "samples" / "orders-in" / "input.edi").read_text(encoding="latin-1")
    segments = [s.strip() for s in text.replace("\n", "").split("'") if s.strip()]
    # UNA, UNB, UNH, BGM … CUX: everything before the first line item.
    return tuple(segments[: next(i for i, s in enumerate(segments) if s.startswith("LIN+"))])


def _line(i: int) -> list[str]:
    return [
        f"LIN+{i}++ART-{i:05d}:VP",
        f"PIA+1+{76123400000 + i:012d}:UP",
        f"IMD+F++:::Article {i}, blue",
        f"QTY+21:{i % 97 + 1}:PCE",
        f"PRI+AAA:{i % 50 + 1}.25",
    ]


def order_message(number: str, lines: int, ref: int = 1) -> list[str]:
    """The UNH … UNT segments of one ORDERS with ``lines`` line items."""
    head = _orders_header()
    body = [s for s in head if not s.startswith(("UNA", "UNB"))]
    body = [f"UNH+{ref}+ORDERS:D:96A:UN" if s.startswith("UNH") else s for s in body]
    body = [f"BGM+220+{number}+9" if s.startswith("BGM") else s for s in body]
    for i in range(1, lines + 1):
        body += _line(i)
    body += ["UNS+S", f"CNT+2:{lines}"]
    body.append(f"UNT+{len(body) + 1}+{ref}")
    return body


def _unb(ref: str) -> str:
    return f"UNB+UNOC:3+MOCKBUYER:ZZ+EURODIS:14+260301:1200+{ref}++++++1"


def order(lines: int, number: str, ref: str) -> bytes:
    """One interchange holding one ORDERS of ``lines`` lines."""
    segs = [_unb(ref), *order_message(number, lines), f"UNZ+1+{ref}"]
    return ("UNA:+.? '\n" + "'\n".join(segs) + "'\n").encode("latin-1")


def orders(count: int, lines: int, tag: str) -> list[Doc]:
    """``count`` ORDERS interchanges of ``lines`` lines; order numbers ``<tag>-<n>`` unique in this process."""
    docs = []
    for _ in range(count):
        n = next(_COUNTER)
        number = f"{tag}-{n}"
        docs.append(Doc(number, order(lines, number, f"B{n}")))
    return docs


def ubl_invoices(count: int, tag: str) -> list[Doc]:
    """``count`` copies of MOCKEINVOICE's UBL invoice, each with its own invoice number."""
    text = (SAMPLES / "MOCKEINVOICE" / "samples" / "invoice-in" / "input.xml").read_text(encoding="utf-8")
    docs = []
    for _ in range(count):
        number = f"{tag}-{next(_COUNTER)}"
        docs.append(Doc(number, text.replace("GLX-0001", number).encode("utf-8")))
    return docs


def canonical_orders(count: int, tag: str) -> list[Doc]:
    """``count`` canonical orders to MOCKEDI (its ``order-out`` sample), each with its own number."""
    sample = json.loads((SAMPLES / "MOCKEDI" / "samples" / "order-out" / "canonical.json").read_text())
    docs = []
    for _ in range(count):
        number = f"{tag}-{next(_COUNTER)}"
        docs.append(Doc(number, json.dumps({**sample, "document_number": number}).encode()))
    return docs


def order_number(edifact: bytes) -> str:
    """The order number (BGM 1004) of an EDIFACT ORDERS, as the partner side sees it."""
    found = _BGM.search(edifact)
    return found.group(1).decode("latin-1") if found else ""
