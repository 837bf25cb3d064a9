"""The pipeline's :class:`~b2b_gateway.pipeline.ports.Acknowledger` for EDIFACT: CONTRL and APERAK.

For an inbound EDIFACT input (the root message, after every stage ran), :class:`EdifactAcknowledger`
collects every finding of the interchange and of its messages, and builds:

* a **CONTRL** per interchange when the partner's ``acknowledgments.contrl`` asks for it (``always``,
  ``on_error``, ``on_request`` = when UNB 0031 is 1; never for an interchange of CONTRLs);
* an **APERAK** per message rejected for application reasons (business rules, mapping, unknown
  items or parties: findings without a 0085 code) when ``acknowledgments.aperak`` is set.

Control references of the acknowledgments come from ``CodecOptions.references`` (``interchange``,
``message``) when the caller allocated them, else from the ``allocate`` callback given to the
acknowledger (per-partner counters), else from the clock (``YYMMDDHHMMSS`` and a sequence).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from b2b_gateway.errors import DocumentRejected, GatewayError, Location
from b2b_gateway.formats.edifact.aperak import AperakItem, aperak_message
from b2b_gateway.formats.edifact.contrl import build_contrl, contrl_wanted
from b2b_gateway.formats.edifact.model import EdifactMessage, Interchange
from b2b_gateway.formats.edifact.reader import read, read_header
from b2b_gateway.formats.edifact.writer import write_interchange
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.edifact.codec import EdifactUnitStream
from b2b_gateway.mapping.edifact.policy import reader_options
from b2b_gateway.pipeline.message import Message, Output

__all__ = ["EdifactAcknowledger", "collect_findings", "contrl_for"]

Allocate = Callable[[str | None, str], str]
"""``allocate(partner_id, counter)``: the next control reference of ``counter`` (interchange, message)."""
_REFERENCED = {"ORDERS": "ON", "ORDCHG": "ON", "ORDRSP": "ON", "INVOIC": "IV", "DESADV": "AAK"}
_sequence = itertools.count(1)


def _flatten(errors: Iterable[GatewayError]) -> list[GatewayError]:
    out: list[GatewayError] = []
    for e in errors:
        out.extend(_flatten(e.errors) if isinstance(e, DocumentRejected) else [e])
    return out


def _leaves(message: Message) -> list[Message]:
    return [message] if not message.children else [m for kid in message.children for m in _leaves(kid)]


def _interchanges(message: Message, options: CodecOptions) -> list[Interchange]:
    if isinstance(message.unit, EdifactUnitStream):  # a streamed input: its interchanges, with message stubs
        return message.unit.interchanges
    found: list[Interchange] = []
    for leaf in _leaves(message):
        unit = leaf.unit
        ic = unit.meta.get("interchange") if unit is not None else None
        if isinstance(ic, Interchange) and all(ic is not other for other in found):
            found.append(ic)
    if not found and message.path is not None:  # a big file stopped before it was read: its UNB answers
        try:
            return [read_header(message.head())]
        except DocumentRejected:
            return []
    return found or read(message.raw, reader_options(options)).interchanges


def collect_findings(message: Message, interchanges: list[Interchange]) -> list[GatewayError]:
    """Every finding about an input: reading (interchanges, messages), then every stage's errors, once each."""
    seen: set[int] = set()
    out: list[GatewayError] = []
    sources = [e for ic in interchanges for e in ic.all_errors]
    sources += _flatten(message.errors)
    for leaf in _leaves(message):
        where = Location(message=leaf.message_ref, interchange=leaf.interchange_ref)
        sources += [e.at(where) if leaf is not message else e for e in _flatten(leaf.errors) + list(leaf.warnings)]
    for err in sources:
        if id(err) not in seen:
            seen.add(id(err))
            out.append(err)
    return out


class EdifactAcknowledger:
    """Builds CONTRL and APERAK outputs for processed inbound EDIFACT inputs."""

    def __init__(self, allocate: Allocate | None = None) -> None:
        self.allocate = allocate

    def _reference(self, options: CodecOptions, counter: str, partner_id: str | None) -> str:
        if counter in options.references:
            return options.references[counter]
        if self.allocate is not None:
            return self.allocate(partner_id, counter)
        return datetime.now(UTC).strftime("%y%m%d%H%M%S") + f"{next(_sequence) % 100:02d}"

    def acknowledge(self, message: Message, options: CodecOptions) -> list[Output]:
        if message.format != "edifact":
            return []
        partner = options.partner
        mode = partner.acknowledgments.contrl if partner is not None else "on_request"
        interchanges = _interchanges(message, options)
        findings = collect_findings(message, interchanges)
        outputs: list[Output] = []
        destination = f"partner:{message.partner_id}" if message.partner_id else "partner:unknown"
        for ic in interchanges:
            mine = [e for e in findings if e.location.interchange in (None, ic.control_ref)]
            if contrl_wanted(mode, ic, mine):
                payload = build_contrl(
                    ic,
                    mine,
                    control_ref=self._reference(options, "interchange", message.partner_id),
                    message_ref=self._reference(options, "message", message.partner_id),
                )
                outputs.append(
                    Output(
                        destination=destination,
                        payload=payload,
                        format="edifact",
                        content_type="application/edifact",
                        kind="acknowledgment",
                        headers={"ack": "CONTRL", "interchange_ref": ic.control_ref},
                    )
                )
            if partner is not None and partner.acknowledgments.aperak:
                outputs.extend(self._aperaks(ic, mine, options, destination, message.partner_id))
        return outputs

    def _aperaks(
        self,
        ic: Interchange,
        findings: list[GatewayError],
        options: CodecOptions,
        destination: str,
        partner_id: str | None,
    ) -> list[Output]:
        outputs: list[Output] = []
        for msg in ic.messages:
            if msg.type in ("CONTRL", "APERAK"):
                continue
            own = [e for e in findings if e.location.message == msg.ref and e.severity == "error"]
            if not own or any(e.ack.contrl is not None for e in own):
                continue  # accepted, or rejected at syntax level (CONTRL says so)
            outputs.append(self._aperak(ic, msg, own, options, destination, partner_id))
        return outputs

    def _aperak(
        self,
        ic: Interchange,
        msg: EdifactMessage,
        errors: list[GatewayError],
        options: CodecOptions,
        destination: str,
        partner_id: str | None,
    ) -> Output:
        bgm = msg.find("BGM")
        number = bgm.value(2) if bgm is not None else ""
        ref = self._reference(options, "message", partner_id)
        items = [AperakItem(e.code[:8], f"{e.message} (at {e.location})"[:350]) for e in errors]
        segments = aperak_message(
            ref,
            document_number=f"{ic.control_ref}-{msg.ref}"[:35],
            answered_ref=msg.ref,
            answered_document=(_REFERENCED.get(msg.type, "ACW"), number) if number else None,
            errors=items,
            sender=ic.recipient,
            recipient=ic.sender,
        )
        payload = write_interchange(
            [segments],
            sender=ic.recipient or "UNKNOWN",
            sender_qualifier=ic.recipient_qualifier,
            recipient=ic.sender or "UNKNOWN",
            recipient_qualifier=ic.sender_qualifier,
            control_ref=self._reference(options, "interchange", partner_id),
            syntax_id=ic.syntax_id if ic.syntax_id in ("UNOB", "UNOC", "UNOD", "UNOY", "UNOW") else "UNOC",
            syntax_version=ic.syntax_version if ic.syntax_version in ("3", "4") else "3",
            test=ic.test,
        )
        return Output(
            destination=destination,
            payload=payload,
            format="edifact",
            content_type="application/edifact",
            kind="acknowledgment",
            headers={"ack": "APERAK", "message_ref": msg.ref},
        )


def contrl_for(message: Message, options: CodecOptions, *, control_ref: str = "1") -> list[bytes]:
    """The CONTRL interchange(s) answering a processed EDIFACT input, whatever the partner's policy asks
    (what ``b2b-gateway validate --contrl`` prints); none for an interchange of CONTRL messages."""
    if message.format != "edifact":
        return []
    interchanges = _interchanges(message, options)
    findings = collect_findings(message, interchanges)
    return [
        build_contrl(
            ic,
            [e for e in findings if e.location.interchange in (None, ic.control_ref)],
            control_ref=control_ref,
            newline=True,
        )
        for ic in interchanges
        if contrl_wanted("always", ic, findings)
    ]
