"""JSON Schemas of the canonical documents: the contract with ERP systems.

``b2b-gateway schema export`` writes them into ``schemas/canonical/``; a test fails when the committed
files differ from what the models produce.
"""

from __future__ import annotations

import json
from typing import Any

from b2b_gateway._version import __version__
from b2b_gateway.canonical.documents import DOCUMENT_TYPES

__all__ = ["SCHEMA_BASE_URI", "document_schemas", "render_schema"]

SCHEMA_BASE_URI = "https://b2b-gateway.dev/schemas/canonical/"


def document_schemas() -> dict[str, dict[str, Any]]:
    """``{file name: JSON Schema}`` for every canonical document type."""
    out: dict[str, dict[str, Any]] = {}
    for name, model in DOCUMENT_TYPES.items():
        schema = model.model_json_schema(mode="validation")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{SCHEMA_BASE_URI}{name}.schema.json",
            **schema,
        }
        schema.setdefault("description", (model.__doc__ or name).strip().splitlines()[0])
        schema["x-canonical-version"] = __version__.rsplit(".", 1)[0]
        out[f"{name}.schema.json"] = schema
    return out


def render_schema(schema: dict[str, Any]) -> str:
    """The exact text written to disk (stable key order, trailing newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
