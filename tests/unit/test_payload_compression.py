"""Stored payloads: zlib with a window no larger than the payload, read back by any inflater."""

from __future__ import annotations

import random
import zlib

import pytest

from b2b_gateway.store.records import compress, decompress, payload_row


def _document(size: int) -> bytes:
    """Text like the gateway stores: EDIFACT segments with varying numbers."""
    rng = random.Random(size)
    out = bytearray()
    while len(out) < size:
        item, quantity = rng.randint(100000, 999999), rng.randint(1, 90)
        out += f"LIN+{rng.randint(1, 999)}++400638{item}:EN'QTY+21:{quantity}'\n".encode()
    return bytes(out[:size])


@pytest.mark.parametrize("size", [256, 655, 1023, 1024, 1025, 5_500, 32_767, 32_768, 100_000])
def test_payloads_round_trip_and_shrink_as_with_the_full_window(size: int) -> None:
    data = _document(size)
    method, packed = compress(data)
    assert method == "zlib"
    assert zlib.decompress(packed) == data and decompress(method, packed) == data
    assert len(packed) <= len(zlib.compress(data, 1)) * 1.05 + 8  # the same matches as the 32 KB window
    window = 1 << ((packed[0] >> 4) + 8)  # the stream header names its window size (RFC 1950, CINFO)
    assert window >= min(len(data), 32_768) and (window < 32_768 or len(data) > 16_384)  # not larger than needed


def test_tiny_or_incompressible_payloads_are_stored_as_they_are() -> None:
    assert compress(b"UNA:+.? '") == ("none", b"UNA:+.? '")
    noise = random.Random(1).randbytes(4_000)
    assert compress(noise) == ("none", noise)
    row = payload_row(_document(2_000))
    assert row["compression"] == "zlib" and decompress(row["compression"], row["data"]) == _document(2_000)
