"""JSON views of messages and partners, shared by the API and the dashboard. Secrets never appear here."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from b2b_gateway.api.ports import MessageRecord, MessageRow
from b2b_gateway.mapping.canonical_json import dump_canonical
from b2b_gateway.partners.profile import PartnerProfile
from b2b_gateway.pipeline.message import Message

__all__ = ["canonical_json", "message_detail", "partner_view", "raw_text"]

_PREVIEW = 512 * 1024
_ACK_STAGES = frozenset({"acknowledge", "acknowledged", "mdn", "contrl", "aperak"})
_SECRET = re.compile(r"auth|token|secret|pass|key|cookie", re.I)


def raw_text(data: bytes) -> tuple[str, str]:
    """The payload as text when it decodes (UTF-8, else Latin-1 for EDIFACT), else base64; and which."""
    for encoding in ("utf-8", "latin-1"):
        try:
            text = data[:_PREVIEW].decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "latin-1" and any(ord(ch) < 9 for ch in text):
            break
        return text, encoding
    return base64.b64encode(data[:_PREVIEW]).decode("ascii"), "base64"


def canonical_json(message: Message) -> Any:
    """The canonical document as JSON data, or ``None``."""
    if message.canonical is None:
        return None
    return json.loads(dump_canonical(message.canonical))


def message_detail(record: MessageRecord, *, lineage: list[MessageRow] | None = None) -> dict[str, Any]:
    """Everything about one message: summary, raw payload, canonical JSON, errors, audit trail, outputs."""
    message = record.message
    text, encoding = raw_text(message.raw)
    data = message.summary()
    data.update(
        {
            "interchange_ref": message.interchange_ref,
            "message_ref": message.message_ref,
            "test": message.test,
            "metadata": message.metadata,
            "raw": {"encoding": encoding, "content": text, "truncated": len(message.raw) > _PREVIEW},
            "canonical": canonical_json(message),
            "events": [e.to_dict() for e in message.events],
            "signature": {"present": True, **record.signature} if record.signature else {"present": False},
            "outputs": record.outputs,
            "acknowledgments": [o for o in record.outputs if o.get("kind") == "acknowledgment"]
            + [e.to_dict() for e in message.events if e.stage in _ACK_STAGES],
        }
    )
    if lineage is not None:
        data["lineage"] = [row.to_dict() for row in lineage]
    return data


def partner_view(profile: PartnerProfile) -> dict[str, Any]:
    """A partner profile for display; channel headers that look like credentials are masked."""
    data = profile.model_dump(mode="json")
    for channel in data.get("channels", []):
        headers = channel.get("headers") or {}
        channel["headers"] = {k: ("***" if _SECRET.search(k) else v) for k, v in headers.items()}
    return data
