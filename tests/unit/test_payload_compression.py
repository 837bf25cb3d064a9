"""Stored payloads are compressed with zstd, by a compressor of each thread's own."""

from __future__ import annotations

import os
import zlib
from concurrent.futures import ThreadPoolExecutor

from b2b_gateway.store.records import compress, decompress
from tests.conftest import ROOT

ORDERS = (ROOT / "mappings" / "MOCKBUYER" / "samples" / "orders-in" / "input.edi").read_bytes()


def test_what_is_compressed_and_what_is_not() -> None:
    method, packed = compress(ORDERS)
    assert method == "zstd" and len(packed) < len(ORDERS)
    assert decompress(method, packed) == ORDERS
    assert compress(b"UNA:+.? '") == ("none", b"UNA:+.? '")  # tiny
    noise = os.urandom(4096)
    assert compress(noise) == ("none", noise)  # does not shrink
    assert decompress("zlib", zlib.compress(ORDERS, 1)) == ORDERS  # stored by an earlier version


def test_threads_compress_and_read_back_at_the_same_time() -> None:
    documents = [ORDERS.replace(b"PO-", f"P{i:05d}-".encode()) for i in range(400)]

    def round_trip(data: bytes) -> bool:
        return decompress(*compress(data)) == data

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(round_trip, documents * 5))
