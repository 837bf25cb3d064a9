"""AS2 (RFC 4130) as a sans-IO protocol core: bytes and headers in, bytes and headers out.

* :class:`~.inbound.As2Receiver`: an AS2 POST in → the payload and the MDN out (partner lookup and
  duplicate check injected as callbacks).
* :func:`~.outbound.build_message`: a payload in → the headers and body to POST; :func:`~.outbound.check_mdn`
  reads the partner's MDN back and compares the MIC.
* :func:`~.party.as2_party`: a partner profile and the cert store → what the core needs (:class:`~.party.As2Party`).

The HTTP side lives in :mod:`b2b_gateway.api.as2` (receive endpoint) and :mod:`b2b_gateway.transport.as2`
(sender).
"""

from b2b_gateway.as2.inbound import As2Receiver, DuplicateCheck, Inbound, PartyLookup, SeenMessages
from b2b_gateway.as2.mdn import Mdn, MdnReceipt, MdnRequest, Mic, build_mdn, disposition_for, error_for, read_mdn
from b2b_gateway.as2.mime import Entity, Headers
from b2b_gateway.as2.outbound import OutboundMessage, build_message, check_mdn
from b2b_gateway.as2.party import As2Party, as2_channel, as2_party

__all__ = [
    "As2Party",
    "As2Receiver",
    "DuplicateCheck",
    "Entity",
    "Headers",
    "Inbound",
    "Mdn",
    "MdnReceipt",
    "MdnRequest",
    "Mic",
    "OutboundMessage",
    "PartyLookup",
    "SeenMessages",
    "as2_channel",
    "as2_party",
    "build_mdn",
    "build_message",
    "check_mdn",
    "disposition_for",
    "error_for",
    "read_mdn",
]
