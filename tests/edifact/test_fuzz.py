"""A bounded mutation fuzz: thousands of mutated interchanges through the reader, the validator, the codec
and CONTRL generation; nothing but a located GatewayError may come out."""

from __future__ import annotations

import random

import pytest

from b2b_gateway.errors import GatewayError
from b2b_gateway.formats.edifact.contrl import build_contrl
from b2b_gateway.formats.edifact.reader import ReaderOptions, read
from b2b_gateway.formats.edifact.validator import validate_message
from b2b_gateway.mapping.codec import CodecOptions
from b2b_gateway.mapping.edifact import EdifactCodec
from tests.edifact.conftest import sample, sample_names

ROUNDS = 4000
SPECIALS = [b"'", b"+", b":", b"?", b"*", b"\n", b"UNA:+.? '", b"UNB+", b"UNH+1+ORDERS:D:96A:UN'", b"UNT+",
            b"UNZ+", b"UNG+", b"UNE+", b"\xc3", b"\xff", b"\x00", b"??", b"?'", b"UNA|^,!_~", b"UNOY", b"UNOA:4"]


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        pos = rng.randrange(len(out) + 1)
        if kind == 0 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif kind == 1:
            out[pos:pos] = rng.choice(SPECIALS)
        elif kind == 2:
            del out[pos : pos + rng.randint(1, 40)]
        elif kind == 3:
            end = min(len(out), pos + rng.randint(1, 80))
            out[end:end] = out[pos:end]
        elif kind == 4:
            del out[pos:]
        elif kind == 5:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            a, b = sorted(rng.randrange(len(out) + 1) for _ in range(2))
            out[a:b] = out[a:b][::-1]
    return bytes(out)


def _exercise(data: bytes, codec: EdifactCodec, options: ReaderOptions) -> int:
    result = read(data, options)
    seen = len(result.findings)
    for ic in result.interchanges:
        found = list(ic.all_errors)
        for msg in ic.messages:
            found.extend(validate_message(msg, ic))
        seen += len(found)
        contrl = read(build_contrl(ic, found, control_ref="1"))
        assert contrl.ok, [str(e) for e in contrl.findings]
    try:
        units = codec.split(data, CodecOptions())
        for unit in units:
            codec.validate(unit, CodecOptions())
            if unit.native.type in ("CONTRL", "APERAK"):
                codec.to_canonical(unit, CodecOptions())
        codec.envelope(data, CodecOptions())
    except GatewayError as exc:
        assert exc.location is not None
    for finding in result.findings:
        assert finding.location.offset is not None or finding.location.segment is not None, repr(finding)
    return seen


@pytest.mark.slow
def test_mutated_interchanges_only_ever_give_located_gateway_errors() -> None:
    rng = random.Random(20240601)
    corpus = [sample(n) for n in sample_names() if len(sample(n)) < 4000]
    codec = EdifactCodec()
    policies = [ReaderOptions(), ReaderOptions(allow_banner=True, allow_wrapped_lines=True, control_counts="warn",
                                               charset_violations="warn", charset_fallback="cp1252")]
    findings = 0
    for round_ in range(ROUNDS):
        data = _mutate(rng.choice(corpus), rng)
        try:
            findings += _exercise(data, codec, policies[round_ % 2])
        except Exception as exc:  # pragma: no cover - the assertion message shows the input
            raise AssertionError(f"round {round_}: {type(exc).__name__}: {exc} for input {data!r}") from exc
    assert findings > ROUNDS  # the mutations really broke things
