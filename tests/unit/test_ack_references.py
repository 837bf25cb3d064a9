"""CONTRL references from the store's counters: exactly as many as the acknowledgments use, none wasted."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

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


class HeldCounters(Counters):
    """Counters holding values in memory up to ``held`` per key (a reserved block), as the store does."""

    def __init__(self, held: int) -> None:
        super().__init__()
        self.held = held
        self.waited = 0

    def take_now(self, key: str) -> int | None:
        if self.values[key] >= self.held:
            return None
        self.values[key] += 1
        return self.values[key]

    async def next(self, key: str) -> int:
        self.waited += 1
        return await super().next(key)


def _counting_builds(acknowledger: CountedAcknowledger) -> list[int]:
    builds = [0]
    inner = acknowledger.inner.acknowledge

    def counted(message: Message, options: CodecOptions) -> list[Any]:
        builds[0] += 1
        return inner(message, options)

    acknowledger.inner.acknowledge = counted  # type: ignore[method-assign]
    return builds


def test_references_the_counters_hold_make_one_build() -> None:
    counters = HeldCounters(held=10)
    acknowledger = CountedAcknowledger(counters)
    builds = _counting_builds(acknowledger)
    unbs = _acknowledge(acknowledger, _message("77", "78"), "always")
    assert [u.split("+")[5] for u in unbs] == ["1", "2"]
    assert builds == [1] and counters.waited == 0


def test_a_reference_the_counters_do_not_hold_is_allocated_and_the_build_made_again() -> None:
    counters = HeldCounters(held=1)
    acknowledger = CountedAcknowledger(counters)
    builds = _counting_builds(acknowledger)
    unbs = _acknowledge(acknowledger, _message("77", "78"), "always")
    assert builds == [2] and counters.waited == 4  # 2 interchange + 2 message references
    assert [u.split("+")[5] for u in unbs] == ["2", "3"]  # unique, not gapless: the held 1 was used up
