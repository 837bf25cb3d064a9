"""Code-checked string types for the canonical model.

Codes stay strings (the lists change twice a year) and are checked against the lists in
``_codelists`` (generated from the reference data by ``scripts/generate_codelists.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field, PlainSerializer, StringConstraints
from pydantic_core import PydanticCustomError

from b2b_gateway.canonical import _codelists as lists

__all__ = [
    "CODE_LISTS",
    "Amount",
    "CountryCode",
    "CurrencyCode",
    "DocumentNameCode",
    "InvoiceTypeCode",
    "MessageFunctionCode",
    "PaymentMeansCode",
    "Percent",
    "Quantity",
    "UnitCode",
    "VatCategoryCode",
    "is_credit_note_type",
]

#: Every list by the name used in error messages, for lookups by mappings and validators.
CODE_LISTS: dict[str, Collection[str]] = {
    "ISO 4217 currency": lists.CURRENCY,
    "ISO 3166-1 country": lists.COUNTRY,
    "UN/ECE Rec 20 unit": lists.UNIT,
    "UNCL 5305 VAT category": lists.VAT_CATEGORY,
    "UNCL 1001 invoice type": lists.INVOICE_TYPE | lists.CREDIT_NOTE_TYPE,
    "UNCL 1001 document name": lists.DOCUMENT_NAME,
    "UNCL 4461 payment means": lists.PAYMENT_MEANS,
    "UNCL 5189 allowance reason": lists.ALLOWANCE_REASON,
    "UNCL 7161 charge reason": lists.CHARGE_REASON,
    "ISO 6523 ICD": lists.ICD,
    "Peppol EAS": lists.EAS,
    "VATEX": lists.VATEX,
    "MIME type": lists.MIME,
    "UNCL 1225 message function": lists.MESSAGE_FUNCTION,
    "UNCL 4343 response type": lists.RESPONSE_TYPE,
}


def _member_of(list_name: str) -> Callable[[str], str]:
    allowed = CODE_LISTS[list_name]

    def check(value: str) -> str:
        if value not in allowed:
            raise PydanticCustomError(
                "code_list",
                "'{value}' is not a valid {list_name} code",
                {"value": value, "list_name": list_name},
            )
        return value

    return check


def _meta(list_name: str, example: str) -> Any:
    return Field(json_schema_extra={"x-code-list": list_name}, examples=[example])


_S = StringConstraints(strip_whitespace=True)  # in pydantic-core, not a Python call per code
CurrencyCode = Annotated[str, _S, AfterValidator(_member_of("ISO 4217 currency")), _meta("ISO 4217 currency", "EUR")]
CountryCode = Annotated[str, _S, AfterValidator(_member_of("ISO 3166-1 country")), _meta("ISO 3166-1 country", "DE")]
UnitCode = Annotated[str, _S, AfterValidator(_member_of("UN/ECE Rec 20 unit")), _meta("UN/ECE Rec 20 unit", "C62")]
VatCategoryCode = Annotated[
    str, _S, AfterValidator(_member_of("UNCL 5305 VAT category")), _meta("UNCL 5305 VAT category", "S")
]
InvoiceTypeCode = Annotated[
    str, _S, AfterValidator(_member_of("UNCL 1001 invoice type")), _meta("UNCL 1001 invoice type", "380")
]
DocumentNameCode = Annotated[
    str, _S, AfterValidator(_member_of("UNCL 1001 document name")), _meta("UNCL 1001 document name", "220")
]
PaymentMeansCode = Annotated[
    str, _S, AfterValidator(_member_of("UNCL 4461 payment means")), _meta("UNCL 4461 payment means", "58")
]
MessageFunctionCode = Annotated[
    str,
    _S,
    AfterValidator(_member_of("UNCL 1225 message function")),
    _meta("UNCL 1225 message function", "9"),
]


def _dec_str(value: Decimal) -> str:
    return format(value, "f")


#: Money: a Decimal (never float), written to JSON as a string so no reader loses precision. A float is
#: taken by its shortest repr (0.1 is Decimal('0.1'), not the binary fraction): pydantic-core does that.
Amount = Annotated[
    Decimal,
    Field(allow_inf_nan=False, json_schema_extra={"x-decimal": True}),
    PlainSerializer(_dec_str, return_type=str, when_used="json"),
]
#: Quantities: Decimal with a unit code beside them.
Quantity = Amount
#: Percentages (VAT rates, allowance percentages).
Percent = Amount


def is_credit_note_type(code: str) -> bool:
    """Whether a UNCL 1001 invoice type code is a credit note (381, 396, 532 …)."""
    return code in lists.CREDIT_NOTE_TYPE


def code_title(list_name: str, code: str) -> str | None:
    """The title of a code in a titled list (document names, message functions, response types)."""
    table = {
        "UNCL 1001 document name": lists.DOCUMENT_NAME,
        "UNCL 1225 message function": lists.MESSAGE_FUNCTION,
        "UNCL 4343 response type": lists.RESPONSE_TYPE,
    }.get(list_name)
    return table.get(code) if table else None
