"""Write the manifest of the official schemas and rules the gateway installs: per-file SHA-256.

Sources (read, never copied): ``../shared/reference/ubl-2.1/`` (OASIS UBL 2.1 XSD),
``reference/cii-d16b/`` (UN/CEFACT CII D16B XSD) and ``reference/en16931/`` (CEN EN 16931 XSLT).
``b2b-gateway schemas install`` checks every file it copies against this manifest, whatever the source
(the official release archive or a local copy).

Run: ``python scripts/generate_official_manifest.py [--shared ../shared] [--check]``. Writes
``src/b2b_gateway/formats/xml/official_manifest.json``; a test fails when the committed file is stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from _outputs import write_or_check

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "src" / "b2b_gateway" / "formats" / "xml" / "official_manifest.json"

GROUPS = {
    "ubl-2.1": {
        "title": "OASIS UBL 2.1 (OASIS Standard) XML schemas",
        "archive": "https://docs.oasis-open.org/ubl/os-UBL-2.1/UBL-2.1.zip",
        "suffixes": (".xsd",),
    },
    "cii-d16b": {
        "title": "UN/CEFACT Cross Industry Invoice D16B schemas (EN 16931 subset)",
        "archive": "https://github.com/ConnectingEurope/eInvoicing-EN16931 (release 1.3.16, cii/schema)",
        "suffixes": (".xsd",),
    },
    "en16931": {
        "title": "CEN EN 16931 validation rules compiled to XSLT 2.0",
        "archive": "https://github.com/ConnectingEurope/eInvoicing-EN16931 (release 1.3.16, ubl/xslt and cii/xslt)",
        "suffixes": (".xslt",),
    },
}


def build(shared: Path) -> str:
    groups: dict[str, object] = {}
    for name, meta in GROUPS.items():
        base = shared / "reference" / name
        files = {
            path.relative_to(base).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(base.rglob("*"))
            if path.is_file() and path.suffix in meta["suffixes"]  # type: ignore[operator]
        }
        if not files:
            raise SystemExit(f"no files under {base}")
        groups[name] = {"title": meta["title"], "archive": meta["archive"], "files": files}
    return json.dumps({"version": 1, "groups": groups}, indent=1, sort_keys=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    args = parser.parse_args()
    text = build(args.shared)
    raise SystemExit(write_or_check({TARGET: text}, check=args.check, script="generate_official_manifest.py"))


if __name__ == "__main__":
    main()
