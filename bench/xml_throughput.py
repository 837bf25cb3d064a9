"""Throughput of UBL invoices: documents per second with XSD validation, with the EN 16931 (CEN) rules,
and through the whole UBL codec (parse, XSD, CEN, mapping, the gateway's own rules).

Run: ``python bench/xml_throughput.py [--shared ../shared] [--seconds 5]``. The official schemas are
installed from ``../shared/reference`` into a temporary directory first.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from b2b_gateway.canonical.rules import check_business_rules  # noqa: E402
from b2b_gateway.formats.xml.official import install_official  # noqa: E402
from b2b_gateway.formats.xml.parser import parse_xml  # noqa: E402
from b2b_gateway.formats.xml.xsd import PREFIXES, OfficialValidators, validate_xsd  # noqa: E402
from b2b_gateway.mapping.codec import CodecOptions  # noqa: E402
from b2b_gateway.mapping.ubl.codec import UblCodec  # noqa: E402

NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
SAMPLES = (
    "OpenPEPPOL_peppol-bis-invoice-3__base-example.xml",
    "ConnectingEurope_eInvoicing-EN16931__ubl-tc434-example1.xml",
)


def rate(fn: Callable[[], object], seconds: float) -> tuple[float, int]:
    fn()  # warm up (compiles and caches)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    target = Path(tempfile.mkdtemp()) / "schemas"
    install_official(args.shared / "reference", target)
    validators = OfficialValidators(target)
    schema = validators.xsd(NS, "Invoice")
    rules = validators.cen("ubl")
    assert schema is not None and rules is not None
    codec, options = UblCodec(validators), CodecOptions()
    for name in SAMPLES:
        data = (args.shared / "samples" / "xml" / name).read_bytes()

        def xsd(data: bytes = data) -> object:
            return validate_xsd(parse_xml(data), schema)

        def cen(data: bytes = data) -> object:
            return rules.run(parse_xml(data), PREFIXES)

        def both(data: bytes = data) -> object:
            tree = parse_xml(data)
            return validate_xsd(tree, schema) + rules.run(tree, PREFIXES)

        def full(data: bytes = data) -> object:
            unit = codec.split(data, options)[0]
            codec.validate(unit, options)
            return check_business_rules(codec.to_canonical(unit, options))

        print(f"{name} ({len(data) / 1024:.1f} KB)")
        for label, fn in (
            ("parse + XSD", xsd),
            ("parse + CEN rules", cen),
            ("parse + XSD + CEN", both),
            ("whole UBL codec", full),
        ):
            per_s, n = rate(fn, args.seconds)
            print(f"  {label:<20} {per_s:8.1f} documents/s  ({n} runs)")


if __name__ == "__main__":
    main()
