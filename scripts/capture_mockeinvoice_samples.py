"""Capture MOCKEINVOICE's inbound golden samples from the real counterparty (the mock-einvoice package).

Starts ``mock-einvoice`` (its clock pinned) and writes:

* ``invoice-in/input.xml``: the invoice its supplier (Globex GmbH) writes for an order of ours;
* ``response-in/input.xml``: the Peppol invoice response its buyer writes when it rejects our
  invoice (``invoice-out/output.xml``, which it first holds to the EN 16931 and Peppol rules).

Run it again after changing the ``invoice-out`` sample, then ``b2b-gateway mappings test MOCKEINVOICE
--update`` to refresh the expected canonical documents.

    python scripts/capture_mockeinvoice_samples.py [--check]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from _outputs import write_or_check

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "mappings" / "MOCKEINVOICE" / "samples"
ORDER = {
    "number": "PO-PEP-7",
    "buyer": {
        "name": "Eurodis Handels GmbH",
        "endpoint": "0088:4012345000016",
        "vat": "DE987654321",
        "street": "Hafenstrasse 12",
        "city": "Hamburg",
        "postal_code": "20457",
        "country": "DE",
    },
    "lines": [{"line": "1", "name": "Widget", "quantity": 40, "unit": "C62", "price": "20.00"}],
}
REJECTION = {"code": "RE", "reasons": [{"code": "REF", "text": "No purchase order PO-PEPPOL-0042 known here."}]}


def _call(base: str, method: str, path: str, body: bytes | None = None) -> bytes:
    request = urllib.request.Request(
        base + path, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        data: bytes = answer.read()
        return data


def _json(base: str, method: str, path: str, body: Any) -> Any:
    return json.loads(_call(base, method, path, json.dumps(body).encode()))


def capture() -> dict[Path, bytes]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "mockeinvoice", "--port", str(port), "--clock", "2026-03-06T09:00", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                _call(base, "GET", "/_mock/health")
                break
            except OSError:
                time.sleep(0.05)
        order = _json(base, "POST", "/_mock/orders", ORDER)
        billed = _json(base, "POST", f"/_mock/orders/{order['id']}/invoices", {})
        invoice = _call(base, "GET", f"/_mock/sent/{billed['id']}/document")
        ours = (SAMPLES / "invoice-out" / "output.xml").read_bytes()
        held = json.loads(_call(base, "POST", "/invoices", ours))
        answered = _json(base, "POST", f"/_mock/invoices/{held['id']}/responses", REJECTION)
        response = _call(base, "GET", f"/_mock/responses/{answered['id']}")
    finally:
        proc.terminate()
        proc.wait(15)
    return {SAMPLES / "invoice-in" / "input.xml": invoice, SAMPLES / "response-in" / "input.xml": response}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the committed samples differ")
    args = parser.parse_args()
    return write_or_check(capture(), check=args.check, script="capture_mockeinvoice_samples.py")


if __name__ == "__main__":
    sys.exit(main())
