"""CONTRL references from the store's counters: exactly as many as the acknowledgments use, none wasted."""

from __future__ import annotations

import asyncio
from collections import Counter

from b2b_gateway.formats.edifact.reader import read
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.partners.profile import AckPolicy, PartnerProfile
from b2b_gateway.pipeline.message import Message
from b2b_gateway.runtime.ack_references import CountedAcknowledger

INTERCHANGE = (
    "UNB+UNOC:3+MOCKEDI:ZZ+EURODIS:14+261102:0900+{ref}++++1'"
    "UNH+1+ORDRSP:D:96A:UN'BGM+231+5100002+9+AP'UNT+3+1'"
    "UNZ+1+{ref}'"
)


class Counters:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    async def next(self, key: str) -> int:
        self.values[key] += 1
        return self.values[key]


def _message(*refs: str) -> Message:
    return Message(
        raw="".join(INTERCHANGE.format(ref=r) for r in refs).encode(), format="edifact", partner_id="MOCKEDI"
    )


def _acknowledge(acknowledger: CountedAcknowledger, message: Message, contrl: str) -> list[str]:
    options = CodecOptions(partner=PartnerProfile(id="MOCKEDI", acknowledgments=AckPolicy(contrl=contrl)))  # type: ignore[arg-type]

    async def run() -> list[str]:
        await acknowledger.prepare(message, options)
        outputs = acknowledger.acknowledge(message, options)
        return [o.payload.decode().split("'")[0] for o in outputs]  # the UNB of each CONTRL

    return asyncio.run(run())


def test_each_contrl_gets_its_own_references_from_the_partners_counters() -> None:
    counters = Counters()
    acknowledger = CountedAcknowledger(counters)
    unbs = _acknowledge(acknowledger, _message("77", "78"), "always")
    assert len(unbs) == 2 and [u.split("+")[5] for u in unbs] == ["1", "2"]
    assert counters.values == {"MOCKEDI:edifact:interchange": 2, "MOCKEDI:edifact:message": 2}
    again = _acknowledge(acknowledger, _message("79"), "always")
    assert again[0].split("+")[5] == "3"  # the counter goes on: UNB 0020 stays unique towards the partner


def test_no_reference_is_taken_when_no_acknowledgment_is_due() -> None:
    counters = Counters()
    assert _acknowledge(CountedAcknowledger(counters), _message("80"), "never") == []
    assert not counters.values
    assert read(_message("81").raw).interchanges  # the fixture reads
