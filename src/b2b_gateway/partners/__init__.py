"""Trading-partner profiles and the directory that finds a partner from a document's identifiers."""

from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.profile import (
    AckPolicy,
    Channel,
    DocumentExchange,
    Narrowing,
    ParsingPolicy,
    PartnerIdentifier,
    PartnerProfile,
    RetryPolicy,
    SecurityPolicy,
)

__all__ = [
    "AckPolicy",
    "Channel",
    "DocumentExchange",
    "Narrowing",
    "ParsingPolicy",
    "PartnerDirectory",
    "PartnerIdentifier",
    "PartnerProfile",
    "RetryPolicy",
    "SecurityPolicy",
]
