"""Read JSON bytes exactly: numbers become Decimal (never float), duplicate keys are refused, size and
depth are limited, and every error says where it is."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from b2b_gateway.errors import (
    CharacterSetError,
    InputTooLargeError,
    JsonSyntaxError,
    Location,
)

__all__ = ["load_json", "pointer_lines"]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _depth(value: Any, limit: int) -> int:
    """Depth of nesting, stopping early past ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def load_json(data: bytes, *, max_bytes: int = 64 * 1024 * 1024, max_depth: int = 128) -> Any:
    """Parse JSON bytes (UTF-8, optional BOM) into Python values with Decimal numbers.

    Raises:
        InputTooLargeError: over ``max_bytes`` or nested deeper than ``max_depth``.
        CharacterSetError: not UTF-8.
        JsonSyntaxError: not JSON, or a key repeated in one object; with line and column.
    """
    if len(data) > max_bytes:
        raise InputTooLargeError(f"JSON document of {len(data)} bytes is over the limit of {max_bytes}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CharacterSetError(
            f"JSON must be UTF-8: byte {data[exc.start]:#04x} at offset {exc.start} is not",
            location=Location(offset=exc.start, line=data.count(b"\n", 0, exc.start) + 1),
        ) from None
    if text.count("[") + text.count("{") > max_depth and _bracket_depth(text) > max_depth:
        raise InputTooLargeError(f"JSON nested deeper than {max_depth} levels")
    try:
        value = json.loads(text, parse_float=Decimal, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError(
            f"invalid JSON: {exc.msg}", location=Location(line=exc.lineno, column=exc.colno, offset=exc.pos)
        ) from None
    except _DuplicateKey as exc:
        raise JsonSyntaxError(f"key {exc.key!r} appears twice in one object") from None
    except RecursionError:
        raise InputTooLargeError(f"JSON nested deeper than {max_depth} levels") from None
    if _depth(value, max_depth) > max_depth:
        raise InputTooLargeError(f"JSON nested deeper than {max_depth} levels")
    return value


def _bracket_depth(text: str) -> int:
    """Maximum bracket nesting outside strings (cheap pre-check before parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def pointer_lines(data: bytes) -> dict[str, int]:
    """Map each JSON pointer in a (valid) document to the 1-based line where its value starts.

    Used to add line numbers to errors found after parsing (field and business-rule errors).
    """
    text = data.decode("utf-8-sig", "replace")
    lines: dict[str, int] = {}
    decoder = json.JSONDecoder()
    pos = 0

    def skip_ws(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    def walk(i: int, pointer: str) -> int:
        i = skip_ws(i)
        lines[pointer] = text.count("\n", 0, i) + 1
        ch = text[i] if i < len(text) else ""
        if ch == "{":
            i = skip_ws(i + 1)
            if text[i] == "}":
                return i + 1
            while True:
                key, i = decoder.raw_decode(text, skip_ws(i))
                i = skip_ws(i) + 1  # the colon
                i = walk(i, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}")
                i = skip_ws(i)
                if text[i] == "}":
                    return i + 1
                i += 1  # the comma
        if ch == "[":
            i = skip_ws(i + 1)
            if text[i] == "]":
                return i + 1
            index = 0
            while True:
                i = skip_ws(walk(i, f"{pointer}/{index}"))
                index += 1
                if text[i] == "]":
                    return i + 1
                i += 1
        _, end = decoder.raw_decode(text, i)
        return int(end)

    try:
        walk(pos, "")
    except (ValueError, IndexError):
        pass
    return lines
