"""Capture MOCKEDI's golden samples from the real counterparty (the mock-edi package).

Sends the gateway's rendered ORDERS (``mappings/MOCKEDI/samples/order-out/output.edi``) to an
in-process mock-edi whose clock stands still, lets it answer, and writes what it sends back (ORDRSP,
DESADV, INVOIC) as the inputs of inbound sample cases. Run it again after changing the ORDERS sample,
then ``b2b-gateway mappings test MOCKEDI --update`` to refresh the expected canonical documents.

    python scripts/capture_mockedi_samples.py [--behaviour accept|short-ship|reject-line] [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _outputs import write_or_check
from mockedi.testing import Mock

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "mappings" / "MOCKEDI" / "samples"
KINDS = {"response": "ordrsp", "despatch": "desadv", "invoice": "invoic"}


def capture(behaviour: str) -> dict[Path, bytes]:
    # The golden file masks the UNB preparation time; mock-edi gets a real one.
    order = (SAMPLES / "order-out" / "output.edi").read_bytes().replace(b"+000000:0000+", b"+260301:1200+")
    suffix = "" if behaviour == "accept" else f"-{behaviour}"
    out: dict[Path, bytes] = {}
    with Mock.start(start_at="2026-03-01T12:00:00Z") as mock:
        mock.behaviour("EURODIS", behaviour)
        summary = mock.send(order.decode("latin-1"))
        if not summary["accepted"]:
            raise SystemExit(f"mock-edi refused the ORDERS sample: {summary['transactionSets']}")
        mock.advance(everything=True)
        for kind, name in KINDS.items():
            for row in mock.mailbox(partner="EURODIS", kind=kind):
                out[SAMPLES / f"{name}-in{suffix}" / "input.edi"] = row["payload"].encode("latin-1")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--behaviour", default="accept", help="mock-edi partner behaviour (accept, short-ship …)")
    parser.add_argument("--check", action="store_true", help="fail when the committed samples differ")
    args = parser.parse_args()
    return write_or_check(capture(args.behaviour), check=args.check, script="capture_mockedi_samples.py")


if __name__ == "__main__":
    sys.exit(main())
