"""Capture MOCKBUYER's inbound golden samples from the real counterparty (the mock-edi package).

Starts an in-process mock-edi as the buyer ``MOCKBUYER`` (``--as2-id MOCKBUYER``) whose clock stands
still, makes our company EURODIS one of its suppliers, has it place an order (``POST /_mock/purchase``)
and change it (``POST /_mock/purchase/<po>/change``), and writes the ORDERS and ORDCHG it sends as the
inputs of the ``orders-in`` and ``ordchg-in`` sample cases. Then ``b2b-gateway mappings test MOCKBUYER
--update`` refreshes the expected canonical documents.

    python scripts/capture_mockbuyer_samples.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from _outputs import write_or_check
from mockedi.testing import Mock

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "mappings" / "MOCKBUYER" / "samples"
ORDER: dict[str, Any] = {
    "partner": "EURODIS",
    "po_number": "PO-9001",
    "requested_on": "2026-03-10",
    "currency": "EUR",
    "lines": [
        {"sku": "WIDGET-001", "quantity": "100", "uom": "EA", "price": "12.50"},
        {"sku": "BRKT-050", "quantity": "40", "uom": "EA", "price": "4.15"},
    ],
}
CHANGE: dict[str, Any] = {"lines": [{"line": "1", "quantity": "80"}]}


def capture() -> dict[Path, bytes]:
    out: dict[Path, bytes] = {}
    with Mock.start(as2_id="MOCKBUYER", start_at="2026-03-01T12:00:00Z") as mock:
        mock.partner("EURODIS", role="supplier")
        mock.expect("POST", "/_mock/purchase", ORDER, status=201)
        mock.expect("POST", f"/_mock/purchase/{ORDER['po_number']}/change", CHANGE)
        mock.advance(everything=True)
        for code, case in (("ORDERS", "orders-in"), ("ORDCHG", "ordchg-in")):
            rows = [r for r in mock.mailbox(partner="EURODIS") if r["code"] == code]
            if len(rows) != 1:
                raise SystemExit(f"mock-edi sent {len(rows)} {code} to EURODIS, expected one")
            out[SAMPLES / case / "input.edi"] = rows[0]["payload"].encode("latin-1")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed samples differ")
    args = parser.parse_args()
    return write_or_check(capture(), check=args.check, script="capture_mockbuyer_samples.py")


if __name__ == "__main__":
    sys.exit(main())
