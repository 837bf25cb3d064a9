"""Errors in a partner's document: syntax, envelope, structure, code lists, business rules, mapping."""

from __future__ import annotations

from b2b_gateway.errors.base import Ack, GatewayError

__all__ = [
    "BusinessRuleError",
    "CharacterSetError",
    "CodeListError",
    "ControlCountError",
    "ControlReferenceError",
    "DocumentError",
    "DocumentRejected",
    "DuplicateDocumentError",
    "EdifactSyntaxError",
    "EnvelopeError",
    "FieldError",
    "ForbiddenXmlConstructError",
    "InputTooLargeError",
    "JsonSyntaxError",
    "MappingError",
    "MimeFormatError",
    "MissingError",
    "PartnerRejectedError",
    "RepresentationError",
    "SchemaError",
    "StructureError",
    "SyntaxError_",
    "TooManyRepeatsError",
    "UnexpectedError",
    "UnknownDocumentTypeError",
    "UnknownFormatError",
    "UnmatchedAcknowledgmentError",
    "UnsafeArchiveError",
    "UnsupportedSyntaxError",
    "ValueTooLongError",
    "ValueTooShortError",
    "XmlSyntaxError",
]


# --- the partner's document ----------------------------------------------------------------------


class DocumentError(GatewayError):
    """The document is wrong: rejecting it is final, retrying will not help."""

    code = "DOCUMENT"
    ack = Ack(contrl="18", mdn=None, http=422)


class DocumentRejected(DocumentError):
    """The document failed one or more checks; ``errors`` holds every one of them."""

    code = "REJECTED"

    def __init__(self, errors: list[GatewayError], message: str | None = None) -> None:
        real = [e for e in errors if e.severity == "error"] or errors
        first = real[0] if real else None
        text = message or (
            f"document rejected: {len(real)} error(s); first: {first.message}" if first else "document rejected"
        )
        super().__init__(text, location=first.location if first else None)
        self.errors = list(errors)
        if first is not None:
            self.ack = first.ack  # type: ignore[misc]


class InputTooLargeError(DocumentError):
    """The input is over a configured size, depth or count limit."""

    code = "TOO_LARGE"
    ack = Ack(contrl="18", mdn="error: unexpected-processing-error", http=413)


class UnknownFormatError(DocumentError):
    """The bytes are none of the formats the gateway reads."""

    code = "UNKNOWN_FORMAT"
    ack = Ack(contrl="4", mdn=None, http=415)


class CharacterSetError(DocumentError):
    """Characters outside the declared repertoire, or bytes that do not decode as declared."""

    code = "CHARSET"
    ack = Ack(contrl="21", mdn=None, http=422)


class SyntaxError_(DocumentError):  # trailing underscore: never shadow the builtin
    """The document cannot be tokenized or parsed."""

    code = "SYNTAX"
    ack = Ack(contrl="18", mdn=None, http=400)


class EdifactSyntaxError(SyntaxError_):
    """An EDIFACT interchange breaks ISO 9735 syntax (separators, release characters, service segments)."""

    code = "EDIFACT_SYNTAX"


class XmlSyntaxError(SyntaxError_):
    """The XML is not well-formed."""

    code = "XML_SYNTAX"


class ForbiddenXmlConstructError(SyntaxError_):
    """A DTD, entity declaration, external reference or XInclude: refused, never expanded or fetched."""

    code = "XML_FORBIDDEN"


class JsonSyntaxError(SyntaxError_):
    """The JSON cannot be parsed."""

    code = "JSON_SYNTAX"


class EnvelopeError(DocumentError):
    """The interchange envelope (UNB/UNZ, UNG/UNE, UNH/UNT) is wrong."""

    code = "ENVELOPE"
    ack = Ack(contrl="4", mdn=None, http=422)


class ControlReferenceError(EnvelopeError):
    """A trailer's control reference does not match its header (UNT/UNH, UNE/UNG, UNZ/UNB)."""

    code = "CONTROL_REFERENCE"
    ack = Ack(contrl="28", mdn=None, http=422)


class ControlCountError(EnvelopeError):
    """A trailer's count does not match what was received (UNT segments, UNE/UNZ messages or groups)."""

    code = "CONTROL_COUNT"
    ack = Ack(contrl="29", mdn=None, http=422)


class UnsupportedSyntaxError(EnvelopeError):
    """Syntax identifier, version or message version the gateway does not support."""

    code = "UNSUPPORTED_SYNTAX"
    ack = Ack(contrl="2", mdn=None, http=422)


class StructureError(DocumentError):
    """The message structure is wrong (segments, groups, elements; XSD; JSON Schema)."""

    code = "STRUCTURE"
    ack = Ack(contrl="6", mdn=None, http=422)


class MissingError(StructureError):
    """A mandatory segment, group, element or component is missing."""

    code = "MISSING"
    ack = Ack(contrl="13", mdn=None, http=422)


class UnexpectedError(StructureError):
    """A segment, element or component is not allowed here."""

    code = "UNEXPECTED"
    ack = Ack(contrl="15", mdn=None, http=422)


class TooManyRepeatsError(StructureError):
    """More repetitions (or constituents) than the definition allows."""

    code = "TOO_MANY"
    ack = Ack(contrl="35", mdn=None, http=422)


class SchemaError(StructureError):
    """An XSD or JSON Schema constraint failed."""

    code = "SCHEMA"
    ack = Ack(contrl=None, mdn=None, http=422)


class RepresentationError(StructureError):
    """A value's type does not fit its representation (a, n, an; decimal mark; date format)."""

    code = "REPRESENTATION"
    ack = Ack(contrl="37", mdn=None, http=422)


class ValueTooLongError(RepresentationError):
    """A value is longer than its maximum length."""

    code = "TOO_LONG"
    ack = Ack(contrl="39", mdn=None, http=422)


class ValueTooShortError(RepresentationError):
    """A value is shorter than its minimum length."""

    code = "TOO_SHORT"
    ack = Ack(contrl="40", mdn=None, http=422)


class CodeListError(DocumentError):
    """A code is not in its code list (ISO 4217, ISO 3166, Rec 20, UNCL 5305, 1001 …)."""

    code = "CODE_LIST"
    ack = Ack(contrl="12", mdn=None, http=422)


class FieldError(DocumentError):
    """A canonical field is missing or has the wrong type or value."""

    code = "FIELD"
    ack = Ack(contrl=None, mdn=None, http=422)


class BusinessRuleError(DocumentError):
    """A business rule failed (line amounts, totals, VAT breakdown: EN 16931 BR-CO-xx and the like)."""

    code = "BUSINESS_RULE"
    ack = Ack(contrl=None, mdn=None, http=422)


class MappingError(DocumentError):
    """A mapping could not produce a required value from the document."""

    code = "MAPPING"
    ack = Ack(contrl=None, mdn=None, http=422)


class UnknownDocumentTypeError(DocumentError):
    """The document is readable but of a type the gateway (or this partner) does not exchange."""

    code = "UNKNOWN_DOCUMENT_TYPE"
    ack = Ack(contrl="14", mdn=None, http=422)


class DuplicateDocumentError(DocumentError):
    """The same interchange or document was already received."""

    code = "DUPLICATE"
    ack = Ack(contrl="26", mdn="warning: duplicate-document", http=409)


class UnmatchedAcknowledgmentError(DocumentError):
    """An acknowledgment (CONTRL, APERAK, MDN) refers to something the gateway never sent."""

    code = "UNMATCHED_ACK"
    ack = Ack(contrl=None, mdn=None, http=422)


class PartnerRejectedError(DocumentError):
    """A partner rejected a document the gateway sent: a CONTRL or APERAK reject, a negative MDN, a Peppol
    invoice response saying ``RE``. Recorded on the document that was sent (the partner's reasons in
    ``details``); the acknowledgment itself is processed normally and reaches the ERP as a status document."""

    code = "PARTNER_REJECTED"
    ack = Ack(contrl=None, mdn=None, http=422)


class MimeFormatError(DocumentError):
    """An AS2 message or MDN is not a readable MIME entity (missing AS2 headers, broken multipart, bad base64)."""

    code = "MIME_FORMAT"
    ack = Ack(contrl=None, mdn="error: unexpected-processing-error", http=400)


class UnsafeArchiveError(DocumentError):
    """An archive (or a member of one) is not safe or not possible to read: a path leaving the archive, a
    link or device, more uncompressed bytes or members than allowed (a zip bomb), a broken archive."""

    code = "UNSAFE_ARCHIVE"
    ack = Ack(contrl=None, mdn="error: unexpected-processing-error", http=400)
