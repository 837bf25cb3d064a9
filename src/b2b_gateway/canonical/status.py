"""Acknowledgment and status documents: CONTRL, APERAK, MDN and Peppol invoice/message responses,
all seen by the ERP as one shape."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from b2b_gateway.canonical.base import DocumentBase
from b2b_gateway.canonical.common import CanonicalModel, DocumentReference, Party

__all__ = ["StatusDocument", "StatusReason", "StatusValue"]

StatusValue = Literal["received", "accepted", "rejected", "conditionally_accepted", "in_process", "under_query", "paid"]
AckKind = Literal["contrl", "aperak", "mdn", "invoice_response", "application_response", "delivery"]


class StatusReason(CanonicalModel):
    code: str | None = Field(default=None, description="Error or reason code (0085, UNCL 4343 reason, rule id)")
    text: str | None = None
    location: str | None = Field(default=None, description="Where in the referenced document")
    severity: Literal["error", "warning", "info"] = "error"


class StatusDocument(DocumentBase):
    """The status of a document exchanged earlier (ours or the partner's)."""

    document_type: Literal["status"] = "status"
    kind: AckKind = Field(description="Which acknowledgment this came from")
    status: StatusValue
    status_code: str | None = Field(default=None, description="As sent: 0083 action, UNCL 4343, MDN disposition")
    referenced_document: DocumentReference
    sender: Party | None = None
    receiver: Party | None = None
    reasons: list[StatusReason] = Field(default_factory=list)

    @property
    def business_key(self) -> str:
        return self.referenced_document.id
