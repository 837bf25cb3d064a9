"""Derive the project's UN/EDIFACT message definitions from the reference directories in ../shared.

Sources (read, never copied): ``reference/edifact-directories/`` (php-edifact/edifact-mapping XML):
``D96A`` and ``D01B`` (``messages/*.xml``, ``segments.xml``, ``codes.xml``, ``service_codes_v3.xml``)
and ``Service_V3`` / ``Service_V4`` (``messages/contrl.xml``, service ``segments.xml``).

Output, in the project's own compact JSON format (``schemas/edifact/``):

* ``<DIR>/segments.json``: every segment of the directory with its elements (id, name, status M/C,
  representation such as ``an..35`` or ``n6``), composites with their components (the D01B source
  drops a few components; :func:`repair_composites` restores them from D96A);
* ``<DIR>/codes.json``: the code lists of the coded elements the gateway checks (qualifiers and the
  codes the mappings use), element id -> sorted codes;
* ``<DIR>/<MESSAGE>.json``: the message structure, a tree of segments and segment groups with status
  and maximum repeats;

for ``D96A`` and ``D01B`` (ORDERS, ORDRSP, ORDCHG, DESADV, INVOIC, APERAK, RECADV) and for the syntax
service directories ``S3`` and ``S4`` (service segments and CONTRL).

Run: ``python scripts/generate_edifact_schemas.py [--shared ../shared] [--check]``. A test fails when the
committed output is stale.
"""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from _outputs import write_or_check

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "schemas" / "edifact"
MESSAGES = ("ORDERS", "ORDRSP", "ORDCHG", "DESADV", "INVOIC", "APERAK", "RECADV")
DIRECTORIES = ("D96A", "D01B")
SERVICE = {"S3": "Service_V3", "S4": "Service_V4"}
SERVICE_SEGMENTS = ("UNB", "UNG", "UNH", "UNS", "UNT", "UNE", "UNZ", "UCI", "UCM", "UCS", "UCD", "UCF")
#: Coded elements checked besides every "...Qualifier": the codes the mappings and CONTRL/APERAK use.
EXTRA_CODED = (
    "1001",  # document name
    "1225",  # message function
    "1229",  # action request/notification (LIN)
    "1153",  # reference qualifier (RFF, some releases name it differently)
    "2005",  # date/time/period qualifier
    "2379",  # date/time/period format
    "3035",  # party function qualifier
    "3055",  # code list responsible agency
    "4343",  # response type
    "4405",  # status
    "4451",  # text subject qualifier
    "4461",  # payment means
    "5025",  # monetary amount type qualifier
    "5189",  # allowance/charge reason
    "5283",  # duty/tax/fee function qualifier
    "5305",  # duty/tax/fee category
    "5463",  # allowance or charge qualifier
    "6063",  # quantity qualifier
    "6343",  # currency qualifier
    "6345",  # currency (ISO 4217)
    "7077",  # item description type
    "7143",  # item type identification
    "7081",  # item characteristic
    "9321",  # application error code (ERC)
)
#: Coded elements never checked: their values are agreed between partners (code list qualifier).
NOT_CHECKED = ("1131",)
#: Service code lists checked. Not 0001/0002 (the reader checks syntax identifier and version, beyond the
#: version 3 list), not 0007/0029 (partners use values outside the list: ZZ, 31B, I), not 0065 (the
#: message type selects the definition instead).
SERVICE_CODED = ("0031", "0035", "0051", "0052", "0083", "0085")


def representation(node: ET.Element) -> str:
    """``an..35`` (variable, maximum 35) or ``n6`` (fixed length 6), as the directories print them."""
    kind = node.get("type") or "an"
    if node.get("length"):
        return f"{kind}{node.get('length')}"
    return f"{kind}..{node.get('maxlength') or '35'}"


def simple(node: ET.Element) -> dict[str, Any]:
    return {
        "id": node.get("id"),
        "name": node.get("name"),
        "status": "M" if node.get("required") == "true" else "C",
        "repr": representation(node),
    }


def segments_of(path: Path, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for seg in ET.parse(path).getroot().iter("segment"):
        tag = seg.get("id") or ""
        if only is not None and tag not in only:
            continue
        elements: list[dict[str, Any]] = []
        for child in seg:
            if child.tag == "data_element":
                elements.append(simple(child))
            elif child.tag == "composite_data_element":
                elements.append(
                    {
                        "id": child.get("id"),
                        "name": child.get("name"),
                        "status": "M" if child.get("required") == "true" else "C",
                        "components": [simple(c) for c in child if c.tag == "data_element"],
                    }
                )
        out[tag] = {"name": seg.get("name"), "elements": elements}
    return dict(sorted(out.items()))


def repair_composites(segments: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """Restore components the source XML drops (D01B lost C819 3229/1131/3228, C502 6155/6154, C701 1054,
    C829 5495): where a composite's component ids are a strict subsequence of the same composite in
    ``reference`` (D96A), take the reference's components, keeping this directory's definitions of
    the ids both have. Returns what was repaired."""
    known: dict[str, list[dict[str, Any]]] = {}
    for seg in reference.values():
        for element in seg["elements"]:
            if "components" in element:
                known.setdefault(element["id"], element["components"])
    repaired = []
    for tag, seg in segments.items():
        for element in seg["elements"]:
            full = known.get(element["id"])
            comps = element.get("components")
            if full is None or comps is None or len(comps) >= len(full):
                continue
            ids = iter(c["id"] for c in full)
            if not all(c["id"] in ids for c in comps):
                continue
            own = {c["id"]: c for c in comps}
            element["components"] = [own.get(c["id"], c) for c in full]
            repaired.append(f"{tag} {element['id']}")
    return repaired


def structure_of(node: ET.Element) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for child in node:
        status = "M" if child.get("required") == "true" else "C"
        max_repeats = int(child.get("maxrepeat") or "1")
        if child.tag == "segment":
            items.append({"segment": child.get("id"), "status": status, "max": max_repeats})
        elif child.tag == "group":
            items.append(
                {"group": child.get("id"), "status": status, "max": max_repeats, "children": structure_of(child)}
            )
    return items


def message_of(path: Path) -> dict[str, Any]:
    root = ET.parse(path).getroot()
    defaults = {d.get("id"): d.get("value") for d in root.iter("data_element") if d.get("value") is not None}
    return {
        "message": defaults.get("0065"),
        "version": defaults.get("0052"),
        "release": defaults.get("0054"),
        "agency": defaults.get("0051"),
        "structure": structure_of(root),
    }


def used_elements(segments: dict[str, Any], tags: set[str]) -> set[str]:
    found: set[str] = set()
    for tag in tags:
        for element in segments.get(tag, {}).get("elements", []):
            for item in element.get("components", [element]):
                name = (item.get("name") or "").lower()
                if ("qualifier" in name or item["id"] in EXTRA_CODED) and item["id"] not in NOT_CHECKED:
                    found.add(item["id"])
    return found


def codes_of(path: Path, wanted: set[str] | tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for element in ET.parse(path).getroot().iter("data_element"):
        ident = element.get("id") or ""
        if ident in wanted:
            out[ident] = sorted({c.get("id") or "" for c in element.iter("code")} - {""})
    return dict(sorted(out.items()))


def tags_in(structure: list[dict[str, Any]]) -> set[str]:
    tags: set[str] = set()
    for item in structure:
        if "segment" in item:
            tags.add(item["segment"])
        else:
            tags |= tags_in(item["children"])
    return tags


def build(shared: Path) -> dict[str, str]:
    """Every output file (relative path -> JSON text)."""
    base = shared / "reference" / "edifact-directories"
    files: dict[str, Any] = {}
    reference = segments_of(base / DIRECTORIES[0] / "segments.xml")
    for name in DIRECTORIES:
        segments = segments_of(base / name / "segments.xml")
        if name != DIRECTORIES[0]:
            repair_composites(segments, reference)
        tags: set[str] = set()
        for message in MESSAGES:
            definition = message_of(base / name / "messages" / f"{message.lower()}.xml")
            files[f"{name}/{message}.json"] = definition
            tags |= tags_in(definition["structure"])
        files[f"{name}/segments.json"] = {"directory": name, "segments": segments}
        files[f"{name}/codes.json"] = {
            "directory": name,
            "codes": codes_of(base / name / "codes.xml", used_elements(segments, tags)),
        }
    for name, folder in SERVICE.items():
        segments = segments_of(base / folder / "segments.xml", SERVICE_SEGMENTS)
        files[f"{name}/segments.json"] = {"directory": name, "segments": segments}
        files[f"{name}/CONTRL.json"] = message_of(base / folder / "messages" / "contrl.xml")
        codes = codes_of(base / "D01B" / "service_codes_v3.xml", SERVICE_CODED)
        if name == "S4":  # the source has version 3 service codes only; syntax 4 service messages are 4:1
            codes["0052"] = sorted({*codes["0052"], "4"})
        files[f"{name}/codes.json"] = {"directory": name, "codes": codes}
    return {path: json.dumps(data, indent=1, ensure_ascii=False) + "\n" for path, data in sorted(files.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=TARGET)
    parser.add_argument("--check", action="store_true", help="Fail when the committed files are stale")
    args = parser.parse_args(argv)
    outputs = build(args.shared)
    files = {args.out / path: text for path, text in outputs.items()}
    return write_or_check(files, check=args.check, script="generate_edifact_schemas.py")


if __name__ == "__main__":
    raise SystemExit(main())
