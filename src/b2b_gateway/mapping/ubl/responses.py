"""UBL 2.1 OrderResponse, DespatchAdvice and ApplicationResponse <-> canonical (Peppol T76, T16, invoice and
message-level responses)."""

from __future__ import annotations

from lxml import etree

from b2b_gateway.canonical.common import Party
from b2b_gateway.canonical.despatch import DespatchAdvice
from b2b_gateway.canonical.order_response import OrderResponse
from b2b_gateway.canonical.status import StatusDocument
from b2b_gateway.formats.xml.ubl_tree import new_document, sort_children, sub
from b2b_gateway.mapping.ubl import common as c
from b2b_gateway.mapping.ubl import items
from b2b_gateway.mapping.ubl.reader import Data, Reader

__all__ = [
    "read_application_response",
    "read_despatch_advice",
    "read_order_response",
    "write_application_response",
    "write_despatch_advice",
    "write_order_response",
]

E = etree._Element
#: UNCL 4343 response codes <-> canonical order-response status (Peppol T76).
_ORDER_STATUS = {"AP": "accepted", "RE": "rejected", "CA": "changed"}
#: UNCL 1229 line status codes (Peppol T76) <-> canonical line status.
_LINE_STATUS = {"5": "accepted", "3": "changed", "7": "rejected"}
#: UNCL 4343 (Peppol invoice and message-level response) <-> canonical status.
_STATUS = {
    "AB": "received",
    "AP": "accepted",
    "RE": "rejected",
    "CA": "conditionally_accepted",
    "IP": "in_process",
    "UQ": "under_query",
    "PD": "paid",
}
_UNKNOWN = Party(name="unknown")
_SEVERITY = {"BV": "error", "BW": "warning", "SV": "info"}
_PEPPOL = {
    "order_response": ("urn:fdc:peppol.eu:poacc:trns:order_response:3", "urn:fdc:peppol.eu:poacc:bis:ordering:3"),
    "despatch_advice": (
        "urn:fdc:peppol.eu:poacc:trns:despatch_advice:3",
        "urn:fdc:peppol.eu:poacc:bis:despatch_advice:3",
    ),
    "invoice_response": (
        "urn:fdc:peppol.eu:poacc:trns:invoice_response:3",
        "urn:fdc:peppol.eu:poacc:bis:invoice_response:3",
    ),
    "application_response": ("urn:fdc:peppol.eu:poacc:trns:mlr:3", "urn:fdc:peppol.eu:poacc:bis:mlr:3"),
}


def _header(r: Reader, root: E, out: Data) -> None:
    for key, path in (
        ("customization_id", "cbc:CustomizationID"),
        ("profile_id", "cbc:ProfileID"),
        ("document_number", "cbc:ID"),
        ("issue_date", "cbc:IssueDate"),
        ("issue_time", "cbc:IssueTime"),
    ):
        r.put(out, key, root, path, "")
    out["notes"] = [n for n in (r.text(x, "") for x in r.all(root, "cbc:Note")) if n]


def _write_header(root: E, doc: OrderResponse | DespatchAdvice | StatusDocument, kind: str) -> None:
    spec, profile = (doc.customization_id, doc.profile_id) if doc.customization_id else _PEPPOL[kind]
    sub(root, "cbc:CustomizationID", spec)
    if profile is not None:
        sub(root, "cbc:ProfileID", profile)
    sub(root, "cbc:ID", doc.document_number)
    sub(root, "cbc:IssueDate", doc.issue_date)
    if doc.issue_time is not None:
        sub(root, "cbc:IssueTime", doc.issue_time)
    for note in doc.notes:
        sub(root, "cbc:Note", note)


def read_order_response(r: Reader, root: E) -> Data:
    """A UBL OrderResponse as canonical order-response data. Lines without a quantity (accepted as
    ordered) are marked in ``extensions`` so the quantity is not invented when writing back."""
    out: Data = {"document_type": "order_response"}
    _header(r, root, out)
    r.put(out, "response_code", root, "cbc:OrderResponseCode", "")
    out["status"] = _ORDER_STATUS.get(
        out.get("response_code", ""), "changed" if r.all(root, "cac:OrderLine") else "accepted"
    )
    r.put(out, "sales_order_reference", root, "cbc:SalesOrderID", "")
    r.put(out, "currency", root, "cbc:DocumentCurrencyCode", "")
    ref: Data = {}
    r.put(ref, "id", root, "cac:OrderReference/cbc:ID", "order_reference")
    r.put(ref, "issue_date", root, "cac:OrderReference/cbc:IssueDate", "order_reference")
    out["order_reference"] = ref
    for key, path in (("seller", "cac:SellerSupplierParty/cac:Party"), ("buyer", "cac:BuyerCustomerParty/cac:Party")):
        party = c.read_party(r, r.find(root, path), key)
        if party is not None:
            out[key] = party
    delivery = c.read_delivery(r, r.find(root, "cac:Delivery"), "delivery")
    if delivery:
        out["delivery"] = delivery
    totals = c.read_totals(r, r.find(root, "cac:LegalMonetaryTotal"))
    if totals:
        out["totals"] = totals
    lines = []
    for n, el in enumerate(r.all(root, "cac:OrderLine")):
        field, item = f"lines[{n}]", r.find(el, "cac:LineItem")
        r.mark(field, item)
        line: Data = {}
        r.put(line, "line_id", item, "cbc:ID", field)
        r.put(line, "note", item, "cbc:Note", field)
        line["status"] = _LINE_STATUS.get(r.text(item, "cbc:LineStatusCode") or "", "changed")
        r.put(line, "quantity", item, "cbc:Quantity", field)
        r.put(line, "unit", item, "cbc:Quantity", field, attr="unitCode")
        r.put(line, "order_line_ref", el, "cac:OrderLineReference/cbc:LineID", field)
        r.put(line, "delivery_date", item, "cac:Delivery/cac:PromisedDeliveryPeriod/cbc:StartDate", field)
        price = items.read_price(r, r.find(item, "cac:Price"), f"{field}.price")
        if price:
            line["price"] = price
        line["item"] = items.read_item(r, r.find(item, "cac:Item"), f"{field}.item")
        lines.append(line)
    out["lines"] = lines
    return out


def write_order_response(doc: OrderResponse) -> E:
    root = new_document("OrderResponse")
    _write_header(root, doc, "order_response")
    if doc.sales_order_reference is not None:
        sub(root, "cbc:SalesOrderID", doc.sales_order_reference)
    code = doc.response_code or {v: k for k, v in _ORDER_STATUS.items()}[doc.status]
    sub(root, "cbc:OrderResponseCode", code)
    if doc.currency is not None:
        sub(root, "cbc:DocumentCurrencyCode", doc.currency)
    ref = sub(root, "cac:OrderReference")
    sub(ref, "cbc:ID", doc.order_reference.id)
    if doc.order_reference.issue_date is not None:
        sub(ref, "cbc:IssueDate", doc.order_reference.issue_date)
    c.write_party(root, "cac:SellerSupplierParty", doc.seller)
    c.write_party(root, "cac:BuyerCustomerParty", doc.buyer)
    c.write_delivery(root, doc.delivery)
    c.write_totals(root, "cac:LegalMonetaryTotal", doc.totals, doc.currency)
    line_codes = {v: k for k, v in _LINE_STATUS.items()} | {"short": "3"}
    for line in doc.lines:
        el = sub(root, "cac:OrderLine")
        item = sub(el, "cac:LineItem")
        sub(item, "cbc:ID", line.line_id)
        if line.note is not None:
            sub(item, "cbc:Note", line.note)
        sub(item, "cbc:LineStatusCode", line_codes[line.status])
        if line.quantity is not None:
            sub(item, "cbc:Quantity", line.quantity, unitCode=line.unit)
        if line.delivery_date is not None:
            sub(sub(sub(item, "cac:Delivery"), "cac:PromisedDeliveryPeriod"), "cbc:StartDate", line.delivery_date)
        items.write_price(item, line.price, doc.currency)
        items.write_item(item, line.item)
        if line.order_line_ref is not None:
            sub(sub(el, "cac:OrderLineReference"), "cbc:LineID", line.order_line_ref)
    sort_children(root)
    return root


def read_despatch_advice(r: Reader, root: E) -> Data:
    out: Data = {"document_type": "despatch_advice"}
    _header(r, root, out)
    ref: Data = {}
    r.put(ref, "id", root, "cac:OrderReference/cbc:ID", "order_reference")
    out["order_reference"] = ref
    for key, path in (
        ("seller", "cac:DespatchSupplierParty/cac:Party"),
        ("buyer", "cac:DeliveryCustomerParty/cac:Party"),
    ):
        party = c.read_party(r, r.find(root, path), key)
        if party is not None:
            out[key] = party
    ship = r.find(root, "cac:Shipment")
    if ship is not None:
        shipment: Data = {}
        r.put(shipment, "id", ship, "cbc:ID", "shipment")
        r.put(shipment, "gross_weight", ship, "cbc:GrossWeightMeasure", "shipment")
        r.put(shipment, "gross_weight_unit", ship, "cbc:GrossWeightMeasure", "shipment", attr="unitCode")
        r.put(shipment, "package_count", ship, "cbc:TotalTransportHandlingUnitQuantity", "shipment")
        r.put(shipment, "tracking_id", ship, "cac:Delivery/cbc:TrackingID", "shipment")
        r.put(shipment, "transport_mode", ship, "cac:ShipmentStage/cbc:TransportModeCode", "shipment")
        carrier = c.read_party(r, r.find(ship, "cac:Consignment/cac:CarrierParty"), "shipment.carrier")
        if carrier is not None:
            shipment["carrier"] = carrier
        out["shipment"] = shipment
        r.put(out, "despatch_date", ship, "cac:Delivery/cac:Despatch/cbc:ActualDespatchDate", "")
        r.put(out, "expected_delivery_date", ship, "cac:Delivery/cac:EstimatedDeliveryPeriod/cbc:EndDate", "")
        out["packages"] = []
        for n, unit in enumerate(r.all(ship, "cac:TransportHandlingUnit")):
            pkg: Data = {}
            r.put(pkg, "id", unit, "cac:Package/cbc:ID", f"packages[{n}]")
            r.put(pkg, "id", unit, "cbc:ID", f"packages[{n}]")
            r.put(pkg, "package_type", unit, "cbc:TransportHandlingUnitTypeCode", f"packages[{n}]")
            r.put(pkg, "quantity", unit, "cbc:TotalPackageQuantity", f"packages[{n}]")
            out["packages"].append(pkg)
    lines = []
    for n, el in enumerate(r.all(root, "cac:DespatchLine")):
        field = f"lines[{n}]"
        r.mark(field, el)
        line: Data = {}
        r.put(line, "line_id", el, "cbc:ID", field)
        r.put(line, "note", el, "cbc:Note", field)
        r.put(line, "quantity", el, "cbc:DeliveredQuantity", field)
        r.put(line, "unit", el, "cbc:DeliveredQuantity", field, attr="unitCode")
        r.put(line, "outstanding_quantity", el, "cbc:OutstandingQuantity", field)
        r.put(line, "order_line_ref", el, "cac:OrderLineReference/cbc:LineID", field)
        item = r.find(el, "cac:Item")
        r.put(line, "batch_id", item, "cac:ItemInstance/cac:LotIdentification/cbc:LotNumberID", field)
        r.put(line, "best_before", item, "cac:ItemInstance/cbc:BestBeforeDate", field)
        line["item"] = items.read_item(r, item, f"{field}.item")
        lines.append(line)
    out["lines"] = lines
    return out


def write_despatch_advice(doc: DespatchAdvice) -> E:
    root = new_document("DespatchAdvice")
    _write_header(root, doc, "despatch_advice")
    sub(sub(root, "cac:OrderReference"), "cbc:ID", doc.order_reference.id)
    c.write_party(root, "cac:DespatchSupplierParty", doc.seller)
    c.write_party(root, "cac:DeliveryCustomerParty", doc.buyer)
    s = doc.shipment
    if s is not None or doc.packages or doc.despatch_date or doc.expected_delivery_date:
        ship = sub(root, "cac:Shipment")
        sub(ship, "cbc:ID", (s.id if s else None) or "1")
        if s is not None and s.gross_weight is not None:
            sub(ship, "cbc:GrossWeightMeasure", s.gross_weight, unitCode=s.gross_weight_unit or "KGM")
        if s is not None and s.package_count is not None:
            sub(ship, "cbc:TotalTransportHandlingUnitQuantity", s.package_count)
        if s is not None and s.carrier is not None:
            cons = sub(ship, "cac:Consignment")
            sub(cons, "cbc:ID", "1")
            c.write_party(cons, "cac:CarrierParty", s.carrier, wrap=False)
        if s is not None and s.transport_mode is not None:
            sub(sub(ship, "cac:ShipmentStage"), "cbc:TransportModeCode", s.transport_mode)
        if doc.despatch_date or doc.expected_delivery_date or (s and s.tracking_id):
            dl = sub(ship, "cac:Delivery")
            if s is not None and s.tracking_id is not None:
                sub(dl, "cbc:TrackingID", s.tracking_id)
            if doc.expected_delivery_date is not None:
                sub(sub(dl, "cac:EstimatedDeliveryPeriod"), "cbc:EndDate", doc.expected_delivery_date)
            if doc.despatch_date is not None:
                sub(sub(dl, "cac:Despatch"), "cbc:ActualDespatchDate", doc.despatch_date)
        for pkg in doc.packages:
            unit = sub(ship, "cac:TransportHandlingUnit")
            if pkg.id is not None:
                sub(unit, "cbc:ID", pkg.id)
            if pkg.package_type is not None:
                sub(unit, "cbc:TransportHandlingUnitTypeCode", pkg.package_type)
            if pkg.quantity is not None:
                sub(unit, "cbc:TotalPackageQuantity", pkg.quantity)
    for line in doc.lines:
        el = sub(root, "cac:DespatchLine")
        sub(el, "cbc:ID", line.line_id)
        if line.note is not None:
            sub(el, "cbc:Note", line.note)
        sub(el, "cbc:DeliveredQuantity", line.quantity, unitCode=line.unit)
        if line.outstanding_quantity is not None:
            sub(el, "cbc:OutstandingQuantity", line.outstanding_quantity, unitCode=line.unit)
        sub(sub(el, "cac:OrderLineReference"), "cbc:LineID", line.order_line_ref or "NA")
        items.write_item(el, line.item)
        item = el[-1]
        if line.batch_id is not None or line.best_before is not None:
            inst = sub(item, "cac:ItemInstance")
            if line.best_before is not None:
                sub(inst, "cbc:BestBeforeDate", line.best_before)
            if line.batch_id is not None:
                sub(sub(inst, "cac:LotIdentification"), "cbc:LotNumberID", line.batch_id)
    sort_children(root)
    return root


def read_application_response(r: Reader, root: E) -> Data:
    out: Data = {"document_type": "status"}
    _header(r, root, out)
    spec = out.get("customization_id", "")
    out["kind"] = "invoice_response" if "invoice_response" in spec else "application_response"
    for key, path in (("sender", "cac:SenderParty"), ("receiver", "cac:ReceiverParty")):
        party = c.read_party(r, r.find(root, path), key)
        if party is not None:
            out[key] = party
    resp = r.find(root, "cac:DocumentResponse")
    r.put(out, "status_code", resp, "cac:Response/cbc:ResponseCode", "")
    out["status"] = _STATUS.get(out.get("status_code", ""), "received")
    ref: Data = {}
    for key, path in (("id", "cbc:ID"), ("issue_date", "cbc:IssueDate"), ("document_type", "cbc:DocumentTypeCode")):
        r.put(ref, key, resp, f"cac:DocumentReference/{path}", "referenced_document")
    out["referenced_document"] = ref
    reasons = []
    for n, st in enumerate(r.all(resp, "cac:Response/cac:Status")):
        reason: Data = {}
        r.put(reason, "code", st, "cbc:StatusReasonCode", f"reasons[{n}]")
        r.put(reason, "text", st, "cbc:StatusReason", f"reasons[{n}]")
        reasons.append(reason)
    for n, lr in enumerate(r.all(resp, "cac:LineResponse"), start=len(reasons)):
        reason = {"severity": _SEVERITY.get(r.text(lr, "cac:Response/cbc:ResponseCode") or "", "error")}
        r.put(reason, "location", lr, "cac:LineReference/cbc:LineID", f"reasons[{n}]")
        r.put(reason, "text", lr, "cac:Response/cbc:Description", f"reasons[{n}]")
        r.put(reason, "code", lr, "cac:Response/cac:Status/cbc:StatusReasonCode", f"reasons[{n}]")
        reasons.append(reason)
    out["reasons"] = reasons
    return out


def write_application_response(doc: StatusDocument) -> E:
    root = new_document("ApplicationResponse")
    kind = "invoice_response" if doc.kind == "invoice_response" else "application_response"
    _write_header(root, doc, kind)
    c.write_party(root, "cac:SenderParty", doc.sender or _UNKNOWN, wrap=False)
    c.write_party(root, "cac:ReceiverParty", doc.receiver or _UNKNOWN, wrap=False)
    resp = sub(root, "cac:DocumentResponse")
    response = sub(resp, "cac:Response")
    sub(response, "cbc:ResponseCode", doc.status_code or {v: k for k, v in _STATUS.items()}[doc.status])
    severity_codes = {v: k for k, v in _SEVERITY.items()}
    for reason in doc.reasons:
        if reason.location is None and reason.severity == "error":
            st = sub(response, "cac:Status")
            if reason.code is not None:
                sub(st, "cbc:StatusReasonCode", reason.code)
            if reason.text is not None:
                sub(st, "cbc:StatusReason", reason.text)
    ref = sub(resp, "cac:DocumentReference")
    sub(ref, "cbc:ID", doc.referenced_document.id)
    if doc.referenced_document.issue_date is not None:
        sub(ref, "cbc:IssueDate", doc.referenced_document.issue_date)
    if doc.referenced_document.document_type is not None:
        sub(ref, "cbc:DocumentTypeCode", doc.referenced_document.document_type)
    for reason in doc.reasons:
        if reason.location is not None or reason.severity != "error":
            lr = sub(resp, "cac:LineResponse")
            sub(sub(lr, "cac:LineReference"), "cbc:LineID", reason.location or "NA")
            r = sub(lr, "cac:Response")
            sub(r, "cbc:ResponseCode", severity_codes[reason.severity])
            if reason.text is not None:
                sub(r, "cbc:Description", reason.text)
            if reason.code is not None:
                sub(sub(r, "cac:Status"), "cbc:StatusReasonCode", reason.code)
    sort_children(root)
    return root
