"""Finding partners: by id, or by any of the identifiers a document carries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from b2b_gateway.partners.profile import PartnerProfile

__all__ = ["PartnerDirectory"]


class PartnerDirectory:
    """An immutable set of partner profiles. Reloading builds a new directory and swaps it in."""

    def __init__(self, profiles: Iterable[PartnerProfile] = ()) -> None:
        self._by_id = {p.id: p for p in profiles}

    def __iter__(self) -> Iterator[PartnerProfile]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, partner_id: str) -> PartnerProfile | None:
        return self._by_id.get(partner_id)

    def find(self, value: str, qualifier: str | None = None, kind: str | None = None) -> PartnerProfile | None:
        """The partner one of whose identifiers is ``value`` (with ``qualifier``/``kind`` when both give one)."""
        direct = self._by_id.get(value)
        if direct is not None:
            return direct
        return next((p for p in self._by_id.values() if p.matches(value, qualifier, kind)), None)
