"""Derive the UBL 2.1 tables the XML writers and the UBL-JSON converter need from the official XSDs.

Source (read, never copied): ``../shared/reference/ubl-2.1/xsd/``. Output
``src/b2b_gateway/formats/xml/ubl_tables.json``:

- ``types``: for each aggregate type and each document type, its child elements in schema order
  (``cbc:ID``, ``cac:Party`` …), so writers can emit a schema-valid element order;
- ``elements``: aggregate element -> its type (``cac:AccountingSupplierParty`` -> ``SupplierPartyType``),
  document root -> its type;
- ``basic``: basic element -> its core component type (``ID`` -> ``Identifier``, ``IssueDate`` -> ``Date``);
- ``attributes``: core component type -> XML attribute -> UBL-JSON key (``schemeID`` ->
  ``IdentificationSchemeIdentifier``), from the CCTS dictionary entry names.

Run: ``python scripts/generate_ubl_tables.py [--shared ../shared] [--check]``; a test fails when stale.
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from _outputs import write_or_check

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "src" / "b2b_gateway" / "formats" / "xml" / "ubl_tables.json"
XS = "{http://www.w3.org/2001/XMLSchema}"
CCTS = "{urn:un:unece:uncefact:documentation:2}"
DOCUMENTS = ("Invoice", "CreditNote", "Order", "OrderChange", "OrderResponse", "DespatchAdvice", "ApplicationResponse")
UDT_KIND = {
    "AmountType": "Amount",
    "BinaryObjectType": "BinaryObject",
    "GraphicType": "BinaryObject",
    "PictureType": "BinaryObject",
    "SoundType": "BinaryObject",
    "VideoType": "BinaryObject",
    "CodeType": "Code",
    "DateTimeType": "DateTime",
    "DateType": "Date",
    "TimeType": "Time",
    "IdentifierType": "Identifier",
    "IndicatorType": "Indicator",
    "MeasureType": "Measure",
    "NumericType": "Numeric",
    "ValueType": "Numeric",
    "PercentType": "Numeric",
    "RateType": "Numeric",
    "QuantityType": "Quantity",
    "TextType": "Text",
    "NameType": "Text",
}


def _children(ctype: ET.Element) -> list[str]:
    out: list[str] = []
    for el in ctype.iter(f"{XS}element"):
        ref = el.get("ref")
        if ref:
            out.append(ref)
    return out


def build(shared: Path) -> str:
    xsd = shared / "reference" / "ubl-2.1" / "xsd"
    cac = ET.parse(xsd / "common" / "UBL-CommonAggregateComponents-2.1.xsd").getroot()
    cbc = ET.parse(xsd / "common" / "UBL-CommonBasicComponents-2.1.xsd").getroot()
    cct = ET.parse(xsd / "common" / "CCTS_CCT_SchemaModule-2.1.xsd").getroot()
    types: dict[str, list[str]] = {}
    elements: dict[str, str] = {}
    for el in cac.findall(f"{XS}element"):
        elements[f"cac:{el.get('name')}"] = str(el.get("type"))
    for ct in cac.findall(f"{XS}complexType"):
        types[str(ct.get("name"))] = _children(ct)
    for doc in DOCUMENTS:
        root = ET.parse(xsd / "maindoc" / f"UBL-{doc}-2.1.xsd").getroot()
        ct = root.find(f"{XS}complexType[@name='{doc}Type']")
        assert ct is not None, doc
        types[f"{doc}Type"] = _children(ct)
        elements[doc] = f"{doc}Type"
    basic_type = {str(ct.get("name")): ct for ct in cbc.findall(f"{XS}complexType")}
    basic: dict[str, str] = {}
    for el in cbc.findall(f"{XS}element"):
        ct = basic_type[str(el.get("type"))]
        base = next(ct.iter(f"{XS}extension")).get("base", "")
        basic[str(el.get("name"))] = UDT_KIND[base.split(":")[-1]]
    attributes: dict[str, dict[str, str]] = {}
    for ct in cct.findall(f"{XS}complexType"):
        kind = str(ct.get("name")).removesuffix("Type")
        table: dict[str, str] = {}
        for attr in ct.iter(f"{XS}attribute"):
            den = attr.find(f".//{CCTS}DictionaryEntryName")
            assert den is not None and den.text
            table[str(attr.get("name"))] = den.text.replace(".", "").replace(" ", "")
        attributes[kind] = table
    data = {"types": types, "elements": elements, "basic": basic, "attributes": attributes}
    return json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    args = parser.parse_args()
    text = build(args.shared)
    raise SystemExit(write_or_check({TARGET: text}, check=args.check, script="generate_ubl_tables.py"))


if __name__ == "__main__":
    main()
