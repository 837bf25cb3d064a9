"""Where documents go: routing rules over sender, receiver, document type and content."""

from b2b_gateway.routing.default import DefaultRouter

__all__ = ["DefaultRouter"]
