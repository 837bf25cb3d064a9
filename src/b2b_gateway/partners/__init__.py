"""Trading-partner profiles and the directory that finds a partner from a document's identifiers."""

from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.profile import PartnerIdentifier, PartnerProfile

__all__ = ["PartnerDirectory", "PartnerIdentifier", "PartnerProfile"]
