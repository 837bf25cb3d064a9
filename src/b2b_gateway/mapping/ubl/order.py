"""UBL 2.1 Order and OrderChange <-> canonical Order (Peppol BIS Ordering 3, T01 semantics).

An OrderChange is a canonical Order with ``message_function`` 4 (change); an Order has 9 (original).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lxml import etree

from b2b_gateway.canonical.common import Totals
from b2b_gateway.canonical.order import Order, OrderLine
from b2b_gateway.errors import Location, MappingError
from b2b_gateway.formats.xml.ubl_tree import new_document, sort_children, sub
from b2b_gateway.mapping.ubl import common as c
from b2b_gateway.mapping.ubl import items
from b2b_gateway.mapping.ubl.reader import Data, Reader

__all__ = ["PEPPOL_ORDER", "read_order", "write_order"]

E = etree._Element
PEPPOL_ORDER = ("urn:fdc:peppol.eu:poacc:trns:order:3", "urn:fdc:peppol.eu:poacc:bis:ordering:3")
PEPPOL_ORDER_CHANGE = ("urn:fdc:peppol.eu:poacc:trns:order_change:3", "urn:fdc:peppol.eu:poacc:bis:advanced_ordering:3")
_FUNCTIONS = {"Order": "9", "OrderChange": "4"}
_HEADER = (
    ("customization_id", "cbc:CustomizationID"),
    ("profile_id", "cbc:ProfileID"),
    ("document_number", "cbc:ID"),
    ("sales_order_reference", "cbc:SalesOrderID"),
    ("issue_date", "cbc:IssueDate"),
    ("issue_time", "cbc:IssueTime"),
    ("order_type_code", "cbc:OrderTypeCode"),
    ("currency", "cbc:DocumentCurrencyCode"),
    ("buyer_reference", "cbc:CustomerReference"),
    ("buyer_accounting_ref", "cbc:AccountingCost"),
    ("validity_end_date", "cac:ValidityPeriod/cbc:EndDate"),
    ("quotation_reference", "cac:QuotationDocumentReference/cbc:ID"),
    ("catalogue_reference", "cac:CatalogueReference/cbc:ID"),
    ("contract_reference", "cac:Contract/cbc:ID"),
    ("project_reference", "cac:ProjectReference/cbc:ID"),
    ("delivery_terms", "cac:DeliveryTerms/cbc:ID"),
    ("payment_terms", "cac:PaymentTerms/cbc:Note"),
)
_PARTIES = (
    ("buyer", "cac:BuyerCustomerParty"),
    ("seller", "cac:SellerSupplierParty"),
    ("originator", "cac:OriginatorCustomerParty"),
    ("invoicee", "cac:AccountingCustomerParty"),
)
_NOT_IN_CHANGE = {"cac:CatalogueReference/cbc:ID", "cac:ProjectReference/cbc:ID", "cbc:OrderTypeCode"}


def _read_line(r: Reader, el: E, n: int) -> Data:
    field = f"lines[{n}]"
    item = r.find(el, "cac:LineItem")
    r.mark(field, item)
    line: Data = {}
    r.put(line, "note", el, "cbc:Note", field)
    r.put(line, "line_id", item, "cbc:ID", field)
    r.put(line, "quantity", item, "cbc:Quantity", field)
    r.put(line, "unit", item, "cbc:Quantity", field, attr="unitCode")
    r.put(line, "net_amount", item, "cbc:LineExtensionAmount", field)
    r.put(line, "accounting_ref", item, "cbc:AccountingCost", field)
    flag = r.text(item, "cbc:PartialDeliveryIndicator")
    if flag is not None:
        line["partial_delivery_allowed"] = flag.lower() == "true"
    delivery = c.read_delivery(r, r.find(item, "cac:Delivery"), f"{field}.delivery")
    if delivery is not None:
        period = delivery.pop("requested_period", None)
        if period is not None:
            line["requested_delivery_period"] = period
        if delivery:
            line["delivery"] = delivery
    acs = r.all(item, "cac:AllowanceCharge")
    if acs:
        line["allowances_charges"] = [
            c.read_allowance_charge(r, a, f"{field}.allowances_charges[{i}]") for i, a in enumerate(acs)
        ]
    price = items.read_price(r, r.find(item, "cac:Price"), f"{field}.price")
    if price is not None:
        line["price"] = price
    line["item"] = items.read_item(r, r.find(item, "cac:Item"), f"{field}.item")
    return line


def read_order(r: Reader, root: E) -> Data:
    """A UBL Order or OrderChange root as canonical order data."""
    kind = etree.QName(root).localname
    out: Data = {"document_type": "order", "message_function": _FUNCTIONS[kind]}
    for key, path in _HEADER:
        r.put(out, key, root, path, "")
    out["notes"] = [n for n in (r.text(x, "") for x in r.all(root, "cbc:Note")) if n]
    refs = []
    for n, ref in enumerate(r.all(root, "cac:OrderDocumentReference" if kind == "Order" else "cac:OrderReference")):
        data: Data = {}
        r.put(data, "id", ref, "cbc:ID", f"references[{n}]")
        r.put(data, "issue_date", ref, "cbc:IssueDate", f"references[{n}]")
        r.put(data, "document_type", ref, "cbc:DocumentTypeCode", f"references[{n}]")
        r.put(data, "document_type", ref, "cbc:OrderTypeCode", f"references[{n}]")
        if kind == "Order" or data.get("id") != out.get("document_number"):
            refs.append(data)
    out["references"] = refs
    r.put(out, "tender_ref", root, "cac:OriginatorDocumentReference/cbc:ID", "")
    if "tender_ref" in out:  # Peppol T01 originator document: kept as a reference
        out["references"].append({"id": out.pop("tender_ref"), "document_type": "originator"})
    out["attachments"] = [
        c.read_attachment(r, a, f"attachments[{n}]")
        for n, a in enumerate(r.all(root, "cac:AdditionalDocumentReference"))
    ]
    for key, path in _PARTIES:
        party = c.read_party(r, r.find(root, f"{path}/cac:Party"), key)
        if party is not None:
            out[key] = party
    delivery = c.read_delivery(r, r.find(root, "cac:Delivery"), "delivery")
    if delivery is not None:
        out["delivery"] = delivery
    out["allowances_charges"] = [
        c.read_allowance_charge(r, a, f"allowances_charges[{n}]")
        for n, a in enumerate(r.all(root, "cac:AllowanceCharge"))
    ]
    tax = c.read_tax_total(r, r.all(root, "cac:TaxTotal"), out.get("currency"), None)
    out["vat_breakdown"] = tax["vat_breakdown"]
    totals = c.read_totals(r, r.find(root, "cac:AnticipatedMonetaryTotal"))
    if totals is not None:
        if tax["vat_total"] is not None:
            totals["vat_total"] = tax["vat_total"]
        if "tax_exclusive" in totals and "tax_inclusive" in totals:
            out["totals"] = totals
        else:  # informative anticipated totals without BT-109/BT-112: kept as sent, not as canonical totals
            out["extensions"] = {"ubl": {"anticipated_totals": totals}}
    out["lines"] = [_read_line(r, el, n) for n, el in enumerate(r.all(root, "cac:OrderLine"))]
    return out


def _write_line(root: E, line: OrderLine, currency: str | None) -> None:
    el = sub(root, "cac:OrderLine")
    if line.note is not None:
        sub(el, "cbc:Note", line.note)
    item = sub(el, "cac:LineItem")
    sub(item, "cbc:ID", line.line_id)
    sub(item, "cbc:Quantity", line.quantity, unitCode=line.unit)
    if line.net_amount is not None:
        sub(item, "cbc:LineExtensionAmount", line.net_amount, currencyID=currency)
    if line.partial_delivery_allowed is not None:
        sub(item, "cbc:PartialDeliveryIndicator", line.partial_delivery_allowed)
    if line.accounting_ref is not None:
        sub(item, "cbc:AccountingCost", line.accounting_ref)
    c.write_delivery(item, line.delivery, requested=line.requested_delivery_period)
    for ac in line.allowances_charges:
        c.write_allowance_charge(item, ac, currency, tax=False)
    items.write_price(item, line.price, currency)
    items.write_item(item, line.item)


def _write_header(root: E, order: Order, change: bool, customization: tuple[str | None, str | None]) -> None:
    spec, profile = (order.customization_id, order.profile_id) if order.customization_id else customization
    if spec is None:
        spec, profile = PEPPOL_ORDER_CHANGE if change else PEPPOL_ORDER
    sub(root, "cbc:CustomizationID", spec)
    if profile is not None:
        sub(root, "cbc:ProfileID", profile)
    if change:
        sub(root, "cbc:SequenceNumberID", "1")
    for key, path in _HEADER[2:]:
        value = getattr(order, key)
        if value is None or (key == "order_type_code" and (change or value == "220")):
            continue
        if change and path in _NOT_IN_CHANGE:
            raise MappingError(
                f"a UBL OrderChange has no place for {key}",
                location=Location(field=key),
                hint="send the change as a new order (message_function 9) or leave the field out",
            )
        parts = path.split("/")
        parent = root
        for agg in parts[:-1]:
            parent = sub(parent, agg)
        sub(parent, parts[-1], value)
    for note in order.notes:
        sub(root, "cbc:Note", note)


def write_order(order: Order, customization: tuple[str | None, str | None] = (None, None)) -> etree._Element:
    """A canonical order as a UBL Order (message function 9) or OrderChange (4), in schema order.

    Raises:
        MappingError: a message function UBL has no document for (1 cancel, 5 replace …), or amounts
            without a currency.
    """
    if order.message_function not in ("9", "4"):
        raise MappingError(
            f"UBL has no Order document for message function {order.message_function!r}",
            location=Location(field="message_function"),
            hint="UBL Order carries 9 (original), OrderChange carries 4 (change)",
        )
    amounts = (
        order.totals
        or order.allowances_charges
        or order.vat_breakdown
        or any(line.net_amount is not None or line.price is not None or line.allowances_charges for line in order.lines)
    )
    if amounts and order.currency is None:
        raise MappingError(
            "the order has amounts but no currency (BT-5); UBL requires a currency on every amount",
            location=Location(field="currency"),
            hint="set the order's currency",
        )
    change = order.message_function == "4"
    root = new_document("OrderChange" if change else "Order")
    cur = order.currency
    _write_header(root, order, change, customization)
    for ref in order.references:
        if ref.document_type == "originator":
            sub(sub(root, "cac:OriginatorDocumentReference"), "cbc:ID", ref.id)
            continue
        el = sub(root, "cac:OrderReference" if change else "cac:OrderDocumentReference")
        sub(el, "cbc:ID", ref.id)
        if ref.issue_date is not None:
            sub(el, "cbc:IssueDate", ref.issue_date)
        if ref.document_type is not None:
            sub(el, "cbc:OrderTypeCode" if change else "cbc:DocumentTypeCode", ref.document_type)
    if change and not any(r.document_type != "originator" for r in order.references):
        sub(sub(root, "cac:OrderReference"), "cbc:ID", order.document_number)
    for a in order.attachments:
        c.write_attachment(root, a, description="DocumentType")
    for key, path in _PARTIES:
        c.write_party(root, path, getattr(order, key))
    c.write_delivery(root, order.delivery)
    for ac in order.allowances_charges:
        c.write_allowance_charge(root, ac, cur)
    vat = order.totals.vat_total if order.totals else None
    totals = order.totals
    kept = (order.extensions.get("ubl") or {}).get("anticipated_totals") if totals is None else None
    if isinstance(kept, dict):
        vat = vat if vat is not None else kept.get("vat_total")
        values: dict[str, Any] = {str(k): Decimal(str(v)) for k, v in kept.items()}
        totals = Totals.model_construct(None, **values)
    c.write_tax_total(root, order.vat_breakdown, vat, cur)
    c.write_totals(root, "cac:AnticipatedMonetaryTotal", totals, cur)
    for line in order.lines:
        _write_line(root, line, cur)
    sort_children(root)
    return root
