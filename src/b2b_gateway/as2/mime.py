"""Just enough MIME for AS2, on exact bytes.

Signatures and MICs are computed over the bytes of a MIME entity as they travel, so entities are
built and split here by hand (CRLF line ends, nothing re-encoded); the standard ``email`` package only
parses header parameters.
"""

from __future__ import annotations

import base64
import binascii
import email.message
import os
import quopri
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from b2b_gateway.errors import MimeFormatError

__all__ = ["Entity", "Headers", "boundary", "content_params", "join_multipart", "split_multipart"]

CRLF = b"\r\n"


class Headers:
    """Case-insensitive, order-keeping header list (HTTP or MIME)."""

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: list[tuple[str, str]] = [(str(k), str(v)) for k, v in pairs]

    def get(self, name: str, default: str = "") -> str:
        low = name.lower()
        return next((v for k, v in self._items if k.lower() == low), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k.lower() == name.lower() for k, _ in self._items)

    def to_dict(self) -> dict[str, str]:
        return dict(self._items)


def content_params(content_type: str) -> tuple[str, dict[str, str]]:
    """``multipart/signed; micalg=sha-256; boundary="x"`` → (``multipart/signed``, {micalg, boundary, …})."""
    msg = email.message.Message()
    msg["Content-Type"] = content_type or "application/octet-stream"
    params = {str(k).lower(): str(v) for k, v in (msg.get_params() or [])[1:]}
    return msg.get_content_type(), params


def boundary() -> str:
    """A fresh multipart boundary."""
    return "----=_b2b_" + os.urandom(12).hex()


@dataclass(slots=True)
class Entity:
    """A MIME entity: headers and the body exactly as it travels."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return Headers(self.headers).get("Content-Type", "text/plain")

    @property
    def media_type(self) -> str:
        return content_params(self.content_type)[0]

    @property
    def params(self) -> dict[str, str]:
        return content_params(self.content_type)[1]

    def header(self, name: str) -> str:
        return Headers(self.headers).get(name)

    def to_bytes(self) -> bytes:
        """The entity as it is signed and encrypted: ``Name: value`` lines, a blank line, the body."""
        head = b"".join(f"{k}: {v}".encode() + CRLF for k, v in self.headers)
        return head + CRLF + self.body

    def content(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone.

        Raises:
            MimeFormatError: base64 or quoted-printable that does not decode.
        """
        cte = self.header("Content-Transfer-Encoding").strip().lower()
        if cte == "base64":
            try:
                return base64.b64decode(b"".join(self.body.split()), validate=True)
            except (binascii.Error, ValueError):
                raise MimeFormatError("a MIME part says base64 but does not decode") from None
        if cte == "quoted-printable":
            return quopri.decodestring(self.body)
        return self.body

    @classmethod
    def parse(cls, data: bytes) -> Entity:
        """Split entity bytes into headers and body (CRLF or LF line ends; folded headers unfolded).

        Raises:
            MimeFormatError: no blank line between the headers and the body.
        """
        if data.startswith((b"\r\n", b"\n")):
            head, body = b"", data.split(b"\n", 1)[1]
        else:
            found = [(i, n) for i, n in ((data.find(b"\r\n\r\n"), 4), (data.find(b"\n\n"), 2)) if i >= 0]
            if not found:
                raise MimeFormatError("a MIME entity has no blank line after its headers")
            at, size = min(found)
            head, body = data[:at], data[at + size :]
        headers: list[tuple[str, str]] = []
        for raw in head.decode("latin-1").replace("\r\n", "\n").split("\n"):
            if raw[:1] in (" ", "\t") and headers:
                name, value = headers[-1]
                headers[-1] = (name, value + " " + raw.strip())
            elif ":" in raw:
                name, value = raw.split(":", 1)
                headers.append((name.strip(), value.strip()))
        return cls(headers, body)


def split_multipart(body: bytes, boundary_value: str) -> list[bytes]:
    """The parts of a multipart body, each exactly as sent (without the line break before a delimiter).

    Raises:
        MimeFormatError: no delimiter, or no closing delimiter.
    """
    delim = b"--" + boundary_value.encode("latin-1")
    if body.startswith(delim):
        pos = 0
    else:
        found = body.find(b"\n" + delim)
        if found < 0:
            raise MimeFormatError(f"multipart body without its boundary {boundary_value!r}")
        pos = found + 1
    parts: list[bytes] = []
    while True:
        after = pos + len(delim)
        if body[after : after + 2] == b"--":
            return parts
        line_end = body.find(b"\n", after)
        if line_end < 0:
            raise MimeFormatError("multipart body ends inside a delimiter line")
        start = line_end + 1
        nxt = body.find(b"\n" + delim, start)
        if nxt < 0:
            raise MimeFormatError("multipart body without its closing delimiter")
        end = nxt - 1 if nxt > start and body[nxt - 1 : nxt] == b"\r" else nxt
        parts.append(body[start:end])
        pos = nxt + 1


def join_multipart(parts: Iterable[bytes], boundary_value: str) -> bytes:
    """A multipart body with CRLF delimiters around ``parts`` (each an entity's bytes)."""
    delim = b"--" + boundary_value.encode("latin-1")
    out = b"".join(delim + CRLF + part + CRLF for part in parts)
    return out + delim + b"--" + CRLF
