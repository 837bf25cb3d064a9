"""What the mapping engine needs from a document syntax."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from b2b_gateway.errors import Location

__all__ = ["Hit", "Syntax", "split_top"]


class Hit:
    """A value found in a document: its text, where it is, and the node holding it (segment, parent).

    The location may be given as ``locate`` (a function making it): most values read never need one,
    so a syntax whose locations cost something to build makes them only when asked.
    """

    __slots__ = ("_locate", "_location", "holder", "value")

    def __init__(
        self,
        value: str | None,
        location: Location | None = None,
        holder: Any = None,
        *,
        locate: Callable[[], Location] | None = None,
    ) -> None:
        self.value = value
        self.holder = holder
        self._location = location
        self._locate = locate

    @property
    def location(self) -> Location:
        """Where the value is (made on first access when the syntax gave ``locate``)."""
        found = self._location
        if found is None:
            found = self._location = self._locate() if self._locate is not None else Location()
        return found

    def __repr__(self) -> str:
        return f"Hit({self.value!r}, {self.location!r})"


class Syntax(Protocol):
    """Compiles paths and reads and writes documents of one syntax.

    ``scope`` values are the syntax's static context while compiling (the EDIFACT segment group a path
    is relative to); ``None`` where the syntax has none.
    """

    name: str

    def compile(self, text: str, scope: Any) -> tuple[Any, Any]:
        """Parse ``text`` relative to ``scope``; return the compiled path and the scope it leads to.

        Raises:
            MappingConfigError: the path is malformed or names something that does not exist there.
        """
        ...

    def nodes(self, context: Any, path: Any) -> list[Any]:
        """The nodes ``path`` designates below ``context`` (for scopes and loops), in document order."""
        ...

    def values(self, context: Any, path: Any) -> list[Hit]:
        """The values ``path`` designates below ``context`` (empty values are left out)."""
        ...

    def locate(self, node: Any) -> Location:
        """Where ``node`` is in the input."""
        ...

    def new_document(self) -> Any:
        """An empty document to build (outbound)."""
        ...

    def scope(self, context: Any, path: Any, *, new: bool) -> Any:
        """The node ``path`` designates below ``context``, created when missing (always, when ``new``)."""
        ...

    def write(self, context: Any, path: Any, value: str) -> None:
        """Set the value at ``path`` below ``context``, creating what is missing (qualifiers included)."""
        ...

    def read(self, context: Any, path: Any) -> str | None:
        """The value at ``path`` below ``context`` in a document being built, if any."""
        ...

    def append(self, context: Any, path: Any, value: str) -> None:
        """Write ``value`` into a new occurrence of what ``path`` designates (repeated text, lists)."""
        ...

    def holder(self, context: Any, path: Any) -> Any:
        """The node that holds the value at ``path`` in a document being built (segment, parent)."""
        ...


def split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` outside brackets and quotes."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    current = ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return parts
