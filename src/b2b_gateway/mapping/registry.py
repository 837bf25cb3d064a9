"""The set of codecs a gateway knows, in sniffing order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from b2b_gateway.errors import Location, UnknownFormatError
from b2b_gateway.formats.detect import detect_syntax
from b2b_gateway.mapping.catalog import MappingSource
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


def default_registry(mappings: MappingSource | None = None, *, schemas_dir: Path | None = None) -> CodecRegistry:
    """Every codec that ships with the gateway, most specific first.

    Args:
        mappings: the partner repository (or a mapping catalog); enables the mapping-driven codecs
            (EDIFACT business messages through mapping files, partner XML and JSON). These come last,
            since it is recognised by its partners' mapping files rather than by a marker.
        schemas_dir: where ``b2b-gateway schemas install`` put the official schemas and rules
            (``settings.paths.installed_schemas``); without it XSD and EN 16931 validation are off.
    """
    from b2b_gateway.formats.xml.xsd import OfficialValidators
    from b2b_gateway.mapping.canonical_json import CanonicalJsonCodec
    from b2b_gateway.mapping.cii.codec import CiiCodec
    from b2b_gateway.mapping.edifact import EdifactCodec
    from b2b_gateway.mapping.ubl.codec import UblCodec
    from b2b_gateway.mapping.ubl.json_codec import UblJsonCodec

    validators = OfficialValidators(schemas_dir)
    registry = CodecRegistry(
        [CanonicalJsonCodec(), EdifactCodec(), UblJsonCodec(validators), UblCodec(validators), CiiCodec(validators)]
    )
    if mappings is not None:
        from b2b_gateway.mapping.edifact_mapping import EdifactMapper
        from b2b_gateway.mapping.partner_json import PartnerJsonCodec
        from b2b_gateway.mapping.partner_xml import PartnerXmlCodec

        registry.add(EdifactCodec(mapper=EdifactMapper(mappings)))  # the same place, now with the mapping engine
        registry.add(PartnerXmlCodec(mappings))
        registry.add(PartnerJsonCodec(mappings))
    return registry
