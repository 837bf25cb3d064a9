"""An interchange of several documents through the gateway: lineage, acknowledgments, processing it twice."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from b2b_gateway.canonical.documents import Document, document_from_data
from b2b_gateway.errors import GatewayError
from b2b_gateway.mapping import CodecOptions, CodecRegistry, EnvelopeInfo, Unit
from b2b_gateway.mapping.canonical_json import CanonicalJsonCodec
from b2b_gateway.pipeline import Message, Output, PipelineContext
from b2b_gateway.runtime import Gateway
from b2b_gateway.store import MessageFilter
from b2b_gateway.transport import Envelope
from tests.delivery.conftest import order, settings_for


class BatchCodec:
    """``UNB+<ref>+<sender>`` then one canonical JSON document a line: an interchange in miniature."""

    name = "batch"
    counters: tuple[str, ...] = ()

    def sniff(self, data: bytes) -> bool:
        return data.startswith(b"UNB+")

    def envelope(self, data: bytes, options: CodecOptions) -> EnvelopeInfo:
        _, ref, sender = data.split(b"\n", 1)[0].decode().split("+")
        return EnvelopeInfo(sender=sender, recipient="EURODIS", interchange_ref=ref)

    def split(self, data: bytes, options: CodecOptions) -> list[Unit]:
        lines = data.split(b"\n")[1:]
        return [Unit("order", f"{i + 1}", json.loads(line), raw=line) for i, line in enumerate(lines) if line]

    def validate(self, unit: Unit, options: CodecOptions) -> list[GatewayError]:
        return []

    def to_canonical(self, unit: Unit, options: CodecOptions) -> Document:
        return document_from_data(unit.native)

    def from_canonical(self, document: Document, options: CodecOptions) -> bytes:
        return CanonicalJsonCodec().from_canonical(document, options)


class Acks:
    """A CONTRL-like acknowledgment for each interchange, back to its sender."""

    def acknowledge(self, message: Message, options: CodecOptions) -> list[Output]:
        body = json.dumps({"ack_of": message.interchange_ref, "documents": len(message.children)}).encode()
        return [Output(destination=f"partner:{message.partner_id}", payload=body, format="json", kind="acknowledgment")]


def _partner(root: Path) -> Path:
    acks = root / "acks"
    folder = root / "mappings" / "ACME"
    folder.mkdir(parents=True)
    (folder / "partner.yaml").write_text(f"id: ACME\nchannels:\n  - {{kind: directory, path: '{acks}'}}\n")
    return acks


async def _until(check: Any) -> None:
    for _ in range(2000):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_an_interchange_splits_into_linked_messages_delivered_once(tmp_path: Path) -> None:
    acks = _partner(tmp_path)
    registry = CodecRegistry([BatchCodec(), CanonicalJsonCodec()])
    gateway = Gateway(settings_for(tmp_path), context=PipelineContext(codecs=registry, acknowledger=Acks()))
    await gateway.start()
    gateway.start_background()
    assert gateway.repo is not None and gateway.transport is not None
    try:
        body = b"\n".join([b"UNB+IC-77+ACME", order("PO-A"), order("PO-B")])
        envelope = Envelope(body, "partner-message-1", "x")
        for _ in range(2):  # published twice (a retry after a lost confirm): one interchange
            await gateway.transport.publish("b2b.in", envelope)

        async def settled() -> bool:
            rows = await gateway.repo.list_messages(MessageFilter(limit=10))  # type: ignore[union-attr]
            erp = list(gateway.settings.erp_outbox.glob("*.json"))
            return len(rows) == 3 and len(erp) == 2 and acks.is_dir() and len(list(acks.iterdir())) == 1

        await _until(settled)
        roots = await gateway.repo.list_messages(MessageFilter(roots_only=True))
        (root,) = roots
        tree = await gateway.repo.lineage(root.id)
        assert [t.business_key for t in tree] == [None, "PO-A", "PO-B"]
        assert root.interchange_ref == "IC-77" and root.state == "split"

        async def children_delivered() -> bool:  # the ERP files are written before their outcome is committed
            lineage = await gateway.repo.lineage(root.id)  # type: ignore[union-attr]
            return {t.state for t in lineage[1:]} == {"delivered"}

        await _until(children_delivered)

        async def ack_recorded() -> bool:  # the ack file is written before its delivery is committed
            outputs = (await gateway.repo.get(root.id)).outputs  # type: ignore[union-attr]
            return len(outputs) == 1 and outputs[0]["state"] != "pending"

        await _until(ack_recorded)
        detail = await gateway.repo.get(root.id)
        (ack,) = detail.outputs
        assert ack["kind"] == "acknowledgment" and ack["state"] == "delivered"
        assert json.loads(next(acks.iterdir()).read_text()) == {"ack_of": "IC-77", "documents": 2}

        # the same interchange under another queue message id: a duplicate of IC-77 from ACME
        await gateway.transport.publish("b2b.in", Envelope(body, "partner-message-2", "x"))

        async def flagged() -> bool:
            rows = await gateway.repo.list_messages(MessageFilter(state=["duplicate"]))  # type: ignore[union-attr]
            return len(rows) == 1

        await _until(flagged)
        # claimed before it was split (the receipt claim waits for the outbox save only for one document):
        # the copy is the root, no document of it was made or delivered
        (copy,) = await gateway.repo.list_messages(MessageFilter(state=["duplicate"]))
        assert copy.interchange_ref == "IC-77" and copy.parent_id is None and copy.id != root.id
        assert len(await gateway.repo.list_messages(MessageFilter(limit=10))) == 4
        assert [t.id for t in await gateway.repo.lineage(copy.id)] == [copy.id]
        assert len(list(gateway.settings.erp_outbox.glob("*.json"))) == 2
    finally:
        await gateway.stop()
