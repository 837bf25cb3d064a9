"""UBL 2.1 Invoice and CreditNote <-> canonical Invoice (EN 16931; Peppol BIS Billing 3).

A credit-note type code (381, 396 …) is written as a UBL CreditNote. Peppol BIS 3 identifiers are
written unless the canonical document (or the partner) names another specification.
"""

from __future__ import annotations

from lxml import etree

from b2b_gateway.canonical.common import Identifier, PaymentMeans
from b2b_gateway.canonical.invoice import Invoice, InvoiceLine
from b2b_gateway.formats.xml.ubl_tree import new_document, sort_children, sub
from b2b_gateway.mapping.ubl import common as c
from b2b_gateway.mapping.ubl import items
from b2b_gateway.mapping.ubl.reader import Data, Reader

__all__ = ["PEPPOL_BILLING", "read_invoice", "write_invoice"]

E = etree._Element
PEPPOL_BILLING = (
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
    "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
)
_REFS = (
    ("despatch_advice_ref", "cac:DespatchDocumentReference/cbc:ID"),
    ("receiving_advice_ref", "cac:ReceiptDocumentReference/cbc:ID"),
    ("tender_ref", "cac:OriginatorDocumentReference/cbc:ID"),
    ("contract_reference", "cac:ContractDocumentReference/cbc:ID"),
)
_OBJECT, _PROJECT = "130", "50"  # UNCL 1001 codes of BT-18 (invoiced object) and of a project reference


def _read_payment_means(r: Reader, root: E, out: Data) -> None:
    means = []
    for n, el in enumerate(r.all(root, "cac:PaymentMeans")):
        field = f"payment_means[{n}]"
        r.mark(field, el)
        pm: Data = {}
        r.put(pm, "code", el, "cbc:PaymentMeansCode", field)
        r.put(pm, "text", el, "cbc:PaymentMeansCode", field, attr="name")
        r.put(pm, "remittance_info", el, "cbc:PaymentID", field)
        r.put(pm, "card_pan", el, "cac:CardAccount/cbc:PrimaryAccountNumberID", field)
        r.put(pm, "card_holder", el, "cac:CardAccount/cbc:HolderName", field)
        r.put(pm, "iban", el, "cac:PayeeFinancialAccount/cbc:ID", field)
        r.put(pm, "account_name", el, "cac:PayeeFinancialAccount/cbc:Name", field)
        r.put(pm, "bic", el, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID", field)
        r.put(pm, "mandate_ref", el, "cac:PaymentMandate/cbc:ID", field)
        r.put(pm, "debited_account", el, "cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID", field)
        if "due_date" not in out:
            r.put(out, "due_date", el, "cbc:PaymentDueDate", "")
        means.append(pm)
    seller = out.get("seller") or {}
    sepa = [i for i in seller.get("identifiers", []) if i.get("scheme") == "SEPA"]
    if sepa and means:
        means[0]["creditor_id"] = sepa[0]["value"]
        seller["identifiers"] = [i for i in seller["identifiers"] if i.get("scheme") != "SEPA"]
    out["payment_means"] = means


def _write_payment_means(root: E, pm: PaymentMeans, due: object) -> None:
    el = sub(root, "cac:PaymentMeans")
    sub(el, "cbc:PaymentMeansCode", pm.code, name=pm.text)
    if due is not None:
        sub(el, "cbc:PaymentDueDate", due)
    if pm.remittance_info is not None:
        sub(el, "cbc:PaymentID", pm.remittance_info)
    if pm.card_pan is not None:
        card = sub(el, "cac:CardAccount")
        sub(card, "cbc:PrimaryAccountNumberID", pm.card_pan)
        sub(card, "cbc:NetworkID", "NA")
        if pm.card_holder is not None:
            sub(card, "cbc:HolderName", pm.card_holder)
    if pm.iban is not None:
        acct = sub(el, "cac:PayeeFinancialAccount")
        sub(acct, "cbc:ID", pm.iban)
        if pm.account_name is not None:
            sub(acct, "cbc:Name", pm.account_name)
        if pm.bic is not None:
            sub(sub(acct, "cac:FinancialInstitutionBranch"), "cbc:ID", pm.bic)
    if pm.mandate_ref is not None or pm.debited_account is not None:
        mandate = sub(el, "cac:PaymentMandate")
        if pm.mandate_ref is not None:
            sub(mandate, "cbc:ID", pm.mandate_ref)
        if pm.debited_account is not None:
            sub(sub(mandate, "cac:PayerFinancialAccount"), "cbc:ID", pm.debited_account)


def _read_line(r: Reader, el: E, n: int, credit: bool) -> Data:
    field = f"lines[{n}]"
    r.mark(field, el)
    line: Data = {}
    qty = "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity"
    r.put(line, "line_id", el, "cbc:ID", field)
    r.put(line, "note", el, "cbc:Note", field)
    r.put(line, "quantity", el, qty, field)
    r.put(line, "unit", el, qty, field, attr="unitCode")
    r.put(line, "net_amount", el, "cbc:LineExtensionAmount", field)
    r.put(line, "accounting_ref", el, "cbc:AccountingCost", field)
    period = c.read_period(r, r.find(el, "cac:InvoicePeriod"), f"{field}.period")
    if period is not None:
        line["period"] = period
    r.put(line, "order_line_ref", el, "cac:OrderLineReference/cbc:LineID", field)
    r.put(line, "object_id", el, "cac:DocumentReference/cbc:ID", field)
    acs = r.all(el, "cac:AllowanceCharge")
    if acs:
        line["allowances_charges"] = [
            c.read_allowance_charge(r, a, f"{field}.allowances_charges[{i}]") for i, a in enumerate(acs)
        ]
    line["item"] = items.read_item(r, r.find(el, "cac:Item"), f"{field}.item")
    price = items.read_price(r, r.find(el, "cac:Price"), f"{field}.price")
    if price is not None:
        line["price"] = price
    return line


def _write_line(root: E, line: InvoiceLine, credit: bool, currency: str) -> None:
    el = sub(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
    sub(el, "cbc:ID", line.line_id)
    if line.note is not None:
        sub(el, "cbc:Note", line.note)
    sub(el, "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity", line.quantity, unitCode=line.unit)
    sub(el, "cbc:LineExtensionAmount", line.net_amount, currencyID=currency)
    if line.accounting_ref is not None:
        sub(el, "cbc:AccountingCost", line.accounting_ref)
    c.write_period(el, "cac:InvoicePeriod", line.period)
    if line.order_line_ref is not None:
        sub(sub(el, "cac:OrderLineReference"), "cbc:LineID", line.order_line_ref)
    if line.object_id is not None:
        ref = sub(el, "cac:DocumentReference")
        sub(ref, "cbc:ID", line.object_id)
        sub(ref, "cbc:DocumentTypeCode", _OBJECT)
    for ac in line.allowances_charges:
        c.write_allowance_charge(el, ac, currency, tax=False)
    items.write_item(el, line.item)
    items.write_price(el, line.price, currency)


def _read_header(r: Reader, root: E, out: Data, credit: bool) -> None:
    for key, path in (
        ("customization_id", "cbc:CustomizationID"),
        ("profile_id", "cbc:ProfileID"),
        ("document_number", "cbc:ID"),
        ("issue_date", "cbc:IssueDate"),
        ("issue_time", "cbc:IssueTime"),
        ("due_date", "cbc:DueDate"),
        ("invoice_type_code", "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode"),
        ("tax_point_date", "cbc:TaxPointDate"),
        ("currency", "cbc:DocumentCurrencyCode"),
        ("tax_currency", "cbc:TaxCurrencyCode"),
        ("buyer_accounting_ref", "cbc:AccountingCost"),
        ("buyer_reference", "cbc:BuyerReference"),
        ("order_reference", "cac:OrderReference/cbc:ID"),
        ("sales_order_reference", "cac:OrderReference/cbc:SalesOrderID"),
        ("project_reference", "cac:ProjectReference/cbc:ID"),
        ("payment_terms", "cac:PaymentTerms/cbc:Note"),
        *_REFS,
    ):
        r.put(out, key, root, path, "")
    if out.get("order_reference") == "NA" and out.get("sales_order_reference"):
        del out["order_reference"]
    notes = [r.text(n, "") for n in r.all(root, "cbc:Note")]
    out["notes"] = [n for n in notes if n]
    period = c.read_period(r, r.find(root, "cac:InvoicePeriod"), "invoice_period")
    if period is not None:
        out["invoice_period"] = period
    out["preceding_invoices"] = []
    for n, ref in enumerate(r.all(root, "cac:BillingReference/cac:InvoiceDocumentReference")):
        prev: Data = {}
        r.put(prev, "id", ref, "cbc:ID", f"preceding_invoices[{n}]")
        r.put(prev, "issue_date", ref, "cbc:IssueDate", f"preceding_invoices[{n}]")
        out["preceding_invoices"].append(prev)
    out["attachments"] = []
    for ref in r.all(root, "cac:AdditionalDocumentReference"):
        code = r.text(ref, "cbc:DocumentTypeCode")
        if code == _OBJECT:
            r.put(out, "invoiced_object_ref", ref, "cbc:ID", "")
        elif code == _PROJECT and credit:
            r.put(out, "project_reference", ref, "cbc:ID", "")
        else:
            out["attachments"].append(c.read_attachment(r, ref, f"attachments[{len(out['attachments'])}]"))


def read_invoice(r: Reader, root: E) -> Data:
    """A UBL Invoice or CreditNote root as canonical invoice data."""
    credit = etree.QName(root).localname == "CreditNote"
    out: Data = {"document_type": "invoice"}
    _read_header(r, root, out, credit)
    for key, path in (
        ("seller", "cac:AccountingSupplierParty/cac:Party"),
        ("buyer", "cac:AccountingCustomerParty/cac:Party"),
        ("payee", "cac:PayeeParty"),
        ("seller_tax_representative", "cac:TaxRepresentativeParty"),
    ):
        party = c.read_party(r, r.find(root, path), key)
        if party is not None:
            out[key] = party
    delivery = c.read_delivery(r, r.find(root, "cac:Delivery"), "delivery")
    if delivery is not None:
        out["delivery"] = delivery
    _read_payment_means(r, root, out)
    out["allowances_charges"] = [
        c.read_allowance_charge(r, a, f"allowances_charges[{n}]")
        for n, a in enumerate(r.all(root, "cac:AllowanceCharge"))
    ]
    tax = c.read_tax_total(r, r.all(root, "cac:TaxTotal"), out.get("currency"), out.get("tax_currency"))
    out["vat_breakdown"] = tax["vat_breakdown"]
    totals = c.read_totals(r, r.find(root, "cac:LegalMonetaryTotal"))
    if totals is not None:
        for key in ("vat_total", "vat_total_tax_currency"):
            if tax[key] is not None:
                totals[key] = tax[key]
        out["totals"] = totals
    line_path = "cac:CreditNoteLine" if credit else "cac:InvoiceLine"
    out["lines"] = [_read_line(r, el, n, credit) for n, el in enumerate(r.all(root, line_path))]
    return out


def _write_header(root: E, inv: Invoice, credit: bool, customization: tuple[str | None, str | None]) -> None:
    spec, profile = (inv.customization_id, inv.profile_id) if inv.customization_id else customization
    if spec is None:
        spec, profile = PEPPOL_BILLING[0], profile or PEPPOL_BILLING[1]
    sub(root, "cbc:CustomizationID", spec)
    if profile is not None:
        sub(root, "cbc:ProfileID", profile)
    sub(root, "cbc:ID", inv.document_number)
    sub(root, "cbc:IssueDate", inv.issue_date)
    if inv.issue_time is not None:
        sub(root, "cbc:IssueTime", inv.issue_time)
    if inv.due_date is not None and not credit:
        sub(root, "cbc:DueDate", inv.due_date)
    sub(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", inv.invoice_type_code)
    for note in inv.notes:
        sub(root, "cbc:Note", note)
    simple: list[tuple[object, str]] = [
        (inv.tax_point_date, "cbc:TaxPointDate"),
        (inv.currency, "cbc:DocumentCurrencyCode"),
        (inv.tax_currency, "cbc:TaxCurrencyCode"),
        (inv.buyer_accounting_ref, "cbc:AccountingCost"),
        (inv.buyer_reference, "cbc:BuyerReference"),
    ]
    for value, name in simple:
        if value is not None:
            sub(root, name, value)
    c.write_period(root, "cac:InvoicePeriod", inv.invoice_period)
    if inv.order_reference is not None or inv.sales_order_reference is not None:
        ref = sub(root, "cac:OrderReference")
        sub(ref, "cbc:ID", inv.order_reference or "NA")
        if inv.sales_order_reference is not None:
            sub(ref, "cbc:SalesOrderID", inv.sales_order_reference)
    for prev in inv.preceding_invoices:
        ref = sub(sub(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        sub(ref, "cbc:ID", prev.id)
        if prev.issue_date is not None:
            sub(ref, "cbc:IssueDate", prev.issue_date)
    for key, path in _REFS:
        value = getattr(inv, key)
        if value is not None:
            agg, _ = path.split("/")
            sub(sub(root, agg), "cbc:ID", value)
    for a in inv.attachments:
        c.write_attachment(root, a)
    for value, code in ((inv.invoiced_object_ref, _OBJECT), (inv.project_reference if credit else None, _PROJECT)):
        if value is not None:
            ref = sub(root, "cac:AdditionalDocumentReference")
            sub(ref, "cbc:ID", value)
            sub(ref, "cbc:DocumentTypeCode", code)
    if inv.project_reference is not None and not credit:
        sub(sub(root, "cac:ProjectReference"), "cbc:ID", inv.project_reference)


def write_invoice(inv: Invoice, customization: tuple[str | None, str | None] = (None, None)) -> etree._Element:
    """A canonical invoice as a UBL Invoice (or CreditNote for a credit-note type code), in schema order."""
    credit = inv.is_credit_note
    root = new_document("CreditNote" if credit else "Invoice")
    cur = inv.currency
    _write_header(root, inv, credit, customization)
    seller = inv.seller
    creditor = next((pm.creditor_id for pm in inv.payment_means if pm.creditor_id), None)
    if creditor is not None:
        seller = seller.model_copy(
            update={"identifiers": [*seller.identifiers, Identifier(value=creditor, scheme="SEPA")]}
        )
    c.write_party(root, "cac:AccountingSupplierParty", seller)
    c.write_party(root, "cac:AccountingCustomerParty", inv.buyer)
    c.write_party(root, "cac:PayeeParty", inv.payee, wrap=False)
    c.write_party(root, "cac:TaxRepresentativeParty", inv.seller_tax_representative, wrap=False)
    c.write_delivery(root, inv.delivery)
    for n, pm in enumerate(inv.payment_means):
        _write_payment_means(root, pm, inv.due_date if credit and n == 0 else None)
    if inv.payment_terms is not None:
        sub(sub(root, "cac:PaymentTerms"), "cbc:Note", inv.payment_terms)
    for ac in inv.allowances_charges:
        c.write_allowance_charge(root, ac, cur)
    c.write_tax_total(
        root, inv.vat_breakdown, inv.totals.vat_total, cur, inv.tax_currency, inv.totals.vat_total_tax_currency
    )
    c.write_totals(root, "cac:LegalMonetaryTotal", inv.totals, cur)
    for line in inv.lines:
        _write_line(root, line, credit, cur)
    sort_children(root)
    return root
