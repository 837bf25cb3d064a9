"""JSON: a size- and depth-limited reader whose errors carry line, column and JSON pointer."""

from b2b_gateway.formats.json.reader import load_json, pointer_lines

__all__ = ["load_json", "pointer_lines"]
