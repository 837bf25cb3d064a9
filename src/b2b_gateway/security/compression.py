"""CMS CompressedData (RFC 3274) with zlib, as AS2 uses it (RFC 5402)."""

from __future__ import annotations

import zlib

from asn1crypto import cms

from b2b_gateway.errors import DecompressionError

__all__ = ["compress_cms", "decompress_cms"]


def compress_cms(data: bytes) -> bytes:
    """DER ContentInfo holding ``data`` as zlib CompressedData."""
    compressed = cms.CompressedData(
        {
            "version": "v0",
            "compression_algorithm": {"algorithm": "zlib"},
            "encap_content_info": {"content_type": "data", "content": zlib.compress(data)},
        }
    )
    return bytes(cms.ContentInfo({"content_type": "compressed_data", "content": compressed}).dump())


def decompress_cms(data: bytes, *, max_bytes: int | None = None) -> bytes:
    """The content of a DER CompressedData.

    Args:
        data: the DER ContentInfo.
        max_bytes: refuse content that inflates beyond this (zip bombs).

    Raises:
        DecompressionError: not CompressedData, not zlib, corrupt, or over ``max_bytes``.
    """
    try:
        info = cms.ContentInfo.load(data)
        if info["content_type"].native != "compressed_data":
            raise DecompressionError(f"expected CMS compressed-data, found {info['content_type'].native}")
        body = info["content"]
        if body["compression_algorithm"]["algorithm"].native != "zlib":
            raise DecompressionError(f"compression {body['compression_algorithm']['algorithm'].native} is not zlib")
        packed = body["encap_content_info"]["content"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise DecompressionError(f"not a CMS compressed-data structure: {exc}") from None
    inflater = zlib.decompressobj()
    limit = max_bytes or 0
    try:
        out = inflater.decompress(packed or b"", limit)
    except zlib.error as exc:
        raise DecompressionError(f"the compressed content is corrupt: {exc}") from None
    if limit and inflater.unconsumed_tail:
        raise DecompressionError(f"the content inflates beyond the limit of {limit} bytes")
    if not inflater.eof:
        raise DecompressionError("the compressed content is truncated or corrupt")
    return out
