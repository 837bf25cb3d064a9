"""Native document trees <-> the canonical model. Pure: no I/O.

A :class:`~b2b_gateway.mapping.codec.DocumentCodec` joins a syntax (from :mod:`b2b_gateway.formats`)
with its mapping, so the pipeline can treat every format alike.
"""

from b2b_gateway.mapping.codec import CodecOptions, DocumentCodec, EnvelopeInfo, Unit
from b2b_gateway.mapping.registry import CodecRegistry, default_registry

__all__ = ["CodecOptions", "CodecRegistry", "DocumentCodec", "EnvelopeInfo", "Unit", "default_registry"]
