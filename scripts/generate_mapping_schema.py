"""Write the JSON Schemas of mapping files and partner profiles, for editors (and check them in CI).

    python scripts/generate_mapping_schema.py          # write schemas/mapping.schema.json, partner.schema.json
    python scripts/generate_mapping_schema.py --check  # exit 1 when a committed schema is stale

Editors that speak the YAML language server pick them up from the first line of each file:
``# yaml-language-server: $schema=../../schemas/mapping.schema.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from _outputs import write_or_check

from b2b_gateway.mapping.spec import mapping_json_schema
from b2b_gateway.partners.profile import PartnerProfile

ROOT = Path(__file__).resolve().parents[1]


def partner_json_schema() -> dict[str, Any]:
    schema = PartnerProfile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://b2b-gateway.dev/schemas/partner.schema.json"
    schema["title"] = "b2b-gateway partner profile"
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def outputs() -> dict[Path, str]:
    return {
        ROOT / "schemas" / "mapping.schema.json": render(mapping_json_schema()),
        ROOT / "schemas" / "partner.schema.json": render(partner_json_schema()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a committed schema is stale")
    args = parser.parse_args()
    return write_or_check(outputs(), check=args.check, script="generate_mapping_schema.py")


if __name__ == "__main__":
    sys.exit(main())
