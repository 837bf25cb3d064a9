"""EdifactCodec in the pipeline: split into standalone messages, validate, map through an injected mapper,
CONTRL/APERAK as status documents, outbound rendering with allocated references, acknowledgments."""

from __future__ import annotations

from typing import Any

import pytest

from b2b_gateway.canonical import Document
from b2b_gateway.canonical.documents import document_from_data
from b2b_gateway.canonical.status import StatusDocument
from b2b_gateway.errors import DocumentRejected, MappingConfigError, MappingError
from b2b_gateway.formats.edifact.model import EdifactMessage, Segment
from b2b_gateway.formats.edifact.reader import read
from b2b_gateway.mapping import CodecOptions, CodecRegistry
from b2b_gateway.mapping.canonical_json import CanonicalJsonCodec, dump_canonical
from b2b_gateway.mapping.edifact import EdifactCodec, EdifactMapper, OutboundMessage
from b2b_gateway.mapping.registry import default_registry
from b2b_gateway.partners import PartnerDirectory, PartnerIdentifier, PartnerProfile
from b2b_gateway.partners.profile import AckPolicy, DocumentExchange
from b2b_gateway.pipeline import Direction, Message, Pipeline, PipelineContext, State
from b2b_gateway.runtime.acknowledgments import EdifactAcknowledger
from tests.conftest import load_fixture

UNB = "UNB+UNOC:3+5412345000013:14+8712345000018:14+240102:0304+IC7++++1'"
MSG = "UNH+{ref}+ORDERS:D:96A:UN:EAN008'BGM+220+{number}+9'DTM+137:20240102:102'UNS+S'UNT+{count}+{ref}'"


def interchange(*numbers: str, bad_count: str | None = None) -> bytes:
    body = "".join(MSG.format(ref=str(i + 1), number=n, count="5" if n != bad_count else "9")
                   for i, n in enumerate(numbers))
    return (UNB + body + f"UNZ+{len(numbers)}+IC7'").encode()


class FakeMapper:
    """A stand-in for the declarative mapping engine: the fixture order, numbered after BGM."""

    def to_canonical(self, message: EdifactMessage, options: CodecOptions) -> Document:
        number = message.segments[1].value(2)
        if number.startswith("UNKNOWN"):
            raise DocumentRejected([MappingError(f"unknown item in order {number}",
                                                 location=message.segments[1].location(2))])
        data = load_fixture("canonical/order.json")
        data["document_number"] = number
        return document_from_data(data)

    def from_canonical(self, document: Document, options: CodecOptions) -> OutboundMessage | list[Segment]:
        return OutboundMessage(
            [Segment("BGM", [["220"], [document.document_number], ["9"]]), Segment("DTM", [["137", "20240102", "102"]]),
             Segment("UNS", [["S"]])],
            sender="4012345000016", sender_qualifier="14",
        )


PARTNER = PartnerProfile(
    id="SHOP",
    identifiers=[PartnerIdentifier(value="5412345000013", kind="edifact", qualifier="14")],
    documents=[DocumentExchange(document="order", direction="outbound", format="edifact", version="D96A")],
    acknowledgments=AckPolicy(contrl="always", aperak=True),
)


def test_mapper_protocol_and_registry() -> None:
    assert isinstance(FakeMapper(), EdifactMapper)
    codec = default_registry().detect(interchange("PO-1"))
    assert codec.name == "edifact" and codec.counters == ("interchange", "message")
    assert EdifactCodec().sniff(b"\xef\xbb\xbf  UNA:+.? '") and not EdifactCodec().sniff(b"{}")


def test_envelope() -> None:
    env = EdifactCodec().envelope(b"banner\r\n" + interchange("PO-1"), CodecOptions())
    assert (env.sender, env.sender_qualifier, env.recipient, env.interchange_ref, env.ack_requested) == (
        "5412345000013", "14", "8712345000018", "IC7", True)


def test_split_gives_standalone_messages_and_rejects_only_the_bad_one() -> None:
    codec = EdifactCodec()
    units = codec.split(interchange("PO-1", "PO-2", bad_count="PO-2"), CodecOptions())
    assert [(u.document_type, u.ref) for u in units] == [("order", "1"), ("order", "2")]
    for unit in units:
        assert unit.raw is not None
        again = codec.split(unit.raw, CodecOptions())
        assert len(again) == 1 and again[0].raw is None and again[0].native.segments[1].value(2) == \
            unit.native.segments[1].value(2)
    assert codec.validate(units[0], CodecOptions()) == []
    assert [e.code for e in codec.validate(units[1], CodecOptions())] == ["CONTROL_COUNT"]
    assert codec.split(interchange("PO-1"), CodecOptions())[0].raw is None


def test_interchange_errors_reject_the_whole_input() -> None:
    with pytest.raises(DocumentRejected) as caught:
        EdifactCodec().split(interchange("PO-1").replace(b"UNZ+1", b"UNZ+3"), CodecOptions())
    assert caught.value.errors[0].code == "CONTROL_COUNT"
    with pytest.raises(DocumentRejected):
        EdifactCodec().split((UNB + "UNZ+0+IC7'").encode(), CodecOptions())


def test_mapping_needs_a_mapper_but_acknowledgments_do_not() -> None:
    codec = EdifactCodec()
    unit = codec.split(interchange("PO-1"), CodecOptions())[0]
    with pytest.raises(MappingConfigError):
        codec.to_canonical(unit, CodecOptions())
    with pytest.raises(MappingConfigError):
        codec.from_canonical(document_from_data(load_fixture("canonical/order.json")), CodecOptions())
    result = read(interchange("PO-1"))
    from b2b_gateway.formats.edifact.contrl import build_contrl

    contrl = build_contrl(result.interchanges[0], [], control_ref="C9")
    status = codec.to_canonical(codec.split(contrl, CodecOptions())[0], CodecOptions())
    assert isinstance(status, StatusDocument)
    assert (status.kind, status.status, status.referenced_document.id) == ("contrl", "accepted", "IC7")


def test_outbound_render_with_allocated_references() -> None:
    codec = EdifactCodec(FakeMapper())
    doc = document_from_data(load_fixture("canonical/order.json"))
    data = codec.from_canonical(doc, CodecOptions(partner=PARTNER, references={"interchange": "88", "message": "9"}))
    ic = read(data).interchanges[0]
    assert (ic.sender, ic.recipient, ic.recipient_qualifier, ic.control_ref) == (
        "4012345000016", "5412345000013", "14", "88")
    msg = ic.messages[0]
    assert (msg.ref, msg.type, msg.release, msg.association) == ("9", "ORDERS", "96A", "EAN008")
    assert codec.validate(codec.split(data, CodecOptions())[0], CodecOptions()) == []


async def test_pipeline_inbound_with_contrl_and_aperak() -> None:
    ctx = PipelineContext(
        codecs=CodecRegistry([CanonicalJsonCodec(), EdifactCodec(FakeMapper())]),
        partners=PartnerDirectory([PARTNER]),
        acknowledger=EdifactAcknowledger(allocate=lambda partner, counter: f"{partner}-{counter}"),
    )
    raw = interchange("PO-1", "PO-2", "UNKNOWN-3", bad_count="PO-2")
    message = await Pipeline(ctx).run(Message(raw=raw), stop_after="check")
    assert message.partner_id == "SHOP" and message.state is State.SPLIT
    states = [(kid.message_ref, kid.state) for kid in message.children]
    assert states == [("1", State.CHECKED), ("2", State.REJECTED), ("3", State.REJECTED)]
    acks = {o.headers["ack"]: o for o in message.outputs if o.kind == "acknowledgment"}
    contrl = read(acks["CONTRL"].payload).interchanges[0]
    rows = [s.trimmed() for s in contrl.messages[0].body]
    assert rows[0][0] == ["IC7"] and rows[0][3] == ["7"]
    assert [r[0][0] + "/" + r[2][0] for r in rows[1:]] == ["1/7", "2/4", "3/7"]
    assert contrl.control_ref == "SHOP-interchange"
    aperak = read(acks["APERAK"].payload).interchanges[0].messages[0]
    assert aperak.find("RFF").value(1, 2) == "3"  # type: ignore[union-attr]
    assert "unknown item" in aperak.find("FTX").value(4)  # type: ignore[union-attr]


async def test_pipeline_outbound_renders_edifact_for_the_partner() -> None:
    ctx = PipelineContext(codecs=CodecRegistry([CanonicalJsonCodec(), EdifactCodec(FakeMapper())]),
                          partners=PartnerDirectory([PARTNER]))
    doc = document_from_data(load_fixture("canonical/order.json"))
    message = Message(raw=dump_canonical(doc), direction=Direction.OUTBOUND, metadata={"partner": "SHOP"})
    await Pipeline(ctx).run(message, stop_after="render")
    assert message.state is State.RENDERED, [str(e) for e in message.errors]
    [out] = message.outputs
    ic = read(out.payload).interchanges[0]
    assert out.format == "edifact" and ic.control_ref == "1" and ic.messages[0].ref == "1"


def test_unit_meta_is_what_the_mapper_needs() -> None:
    unit = EdifactCodec().split(interchange("PO-1"), CodecOptions())[0]
    meta: dict[str, Any] = unit.meta
    assert meta["interchange_ref"] == "IC7" and meta["message_type"] == "ORDERS"
    assert isinstance(unit.native, EdifactMessage) and unit.native.interchange_ref == "IC7"
