"""The set of codecs a gateway knows, in sniffing order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from b2b_gateway.errors import Location, UnknownFormatError
from b2b_gateway.formats.detect import detect_syntax
from b2b_gateway.mapping.codec import DocumentCodec

__all__ = ["CodecRegistry", "default_registry"]


class CodecRegistry:
    """Codecs by name; :meth:`detect` asks each in turn whether it recognises the bytes."""

    def __init__(self, codecs: Iterable[DocumentCodec] = ()) -> None:
        self._codecs: dict[str, DocumentCodec] = {}
        for codec in codecs:
            self.add(codec)

    def add(self, codec: DocumentCodec) -> None:
        self._codecs[codec.name] = codec

    def __iter__(self) -> Iterator[DocumentCodec]:
        return iter(self._codecs.values())

    def names(self) -> list[str]:
        return list(self._codecs)

    def get(self, name: str) -> DocumentCodec:
        try:
            return self._codecs[name]
        except KeyError:
            raise UnknownFormatError(
                f"no codec for format {name!r}", hint=f"known formats: {', '.join(self._codecs)}"
            ) from None

    def detect(self, data: bytes, *, allow_banner: bool = False) -> DocumentCodec:
        """The first codec that recognises ``data``.

        Raises:
            UnknownFormatError: none does; says what the bytes look like.
        """
        syntax = detect_syntax(data, allow_banner=allow_banner)
        for codec in self._codecs.values():
            if codec.sniff(data):
                return codec
        raise UnknownFormatError(
            f"the input looks like {syntax.upper() if syntax != 'json' else 'JSON'} "
            "but no installed format reads this kind of document",
            location=Location(line=1),
            hint=f"known formats: {', '.join(self._codecs)}",
        )


def default_registry() -> CodecRegistry:
    """Every codec that ships with the gateway, most specific first."""
    from b2b_gateway.mapping.canonical_json import CanonicalJsonCodec
    from b2b_gateway.mapping.edifact import EdifactCodec

    return CodecRegistry([CanonicalJsonCodec(), EdifactCodec()])
