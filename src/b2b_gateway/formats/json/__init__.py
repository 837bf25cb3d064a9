"""JSON: a size- and depth-limited reader whose errors carry line, column and JSON pointer."""

from b2b_gateway.formats.json.reader import load_json, pointer_lines
from b2b_gateway.formats.json.schema import JsonSchema, compile_schema, validate_json

__all__ = ["JsonSchema", "compile_schema", "load_json", "pointer_lines", "validate_json"]
