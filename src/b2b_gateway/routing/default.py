"""The router a gateway has with no routing file: partner documents to the ERP, ERP documents to their partner."""

from __future__ import annotations

from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.pipeline.message import Direction, Message
from b2b_gateway.pipeline.ports import Destination

__all__ = ["DefaultRouter"]


class DefaultRouter:
    """Inbound documents go to the ERP as canonical JSON; outbound ones to their partner in its format."""

    def __init__(self, partners: PartnerDirectory | None = None) -> None:
        self.partners = partners or PartnerDirectory()

    def route(self, message: Message) -> list[Destination]:
        if message.direction is Direction.INBOUND:
            return [Destination(name="erp", kind="erp", format="canonical-json", partner_id=message.partner_id)]
        if message.partner_id is None:
            return []
        partner = self.partners.get(message.partner_id)
        fmt = partner.outbound_format(message.document_type or "") if partner else "canonical-json"
        return [
            Destination(
                name=partner.destination(message.document_type or "") if partner else f"partner:{message.partner_id}",
                kind="partner",
                format=fmt,
                partner_id=message.partner_id,
            )
        ]
