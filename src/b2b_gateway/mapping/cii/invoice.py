"""UN/CEFACT Cross Industry Invoice D16B (EN 16931 CII syntax) -> canonical Invoice (read only)."""

from __future__ import annotations

from lxml import etree

from b2b_gateway.mapping.ubl.reader import Data, Reader

__all__ = ["CII_NS", "read_cii_invoice"]

E = etree._Element
CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
_TOTALS = (
    ("line_net_sum", "ram:LineTotalAmount"),
    ("charge_total", "ram:ChargeTotalAmount"),
    ("allowance_total", "ram:AllowanceTotalAmount"),
    ("tax_exclusive", "ram:TaxBasisTotalAmount"),
    ("rounding", "ram:RoundingAmount"),
    ("tax_inclusive", "ram:GrandTotalAmount"),
    ("prepaid", "ram:TotalPrepaidAmount"),
    ("payable", "ram:DuePayableAmount"),
)


def _date(r: Reader, out: Data, key: str, el: E | None, path: str, field: str) -> None:
    """A ``udt:DateTimeString`` (format 102, YYYYMMDD) as an ISO date."""
    r.put(out, key, el, f"{path}/udt:DateTimeString" if path else "udt:DateTimeString", field)
    value = out.get(key)
    if isinstance(value, str) and len(value) == 8 and value.isdigit():
        out[key] = f"{value[:4]}-{value[4:6]}-{value[6:]}"


def _party(r: Reader, el: E | None, field: str) -> Data | None:
    if el is None:
        return None
    r.mark(field, el)
    out: Data = {}
    ids = [
        r.ident(i, "", f"{field}.identifiers[{n}]")
        for n, i in enumerate(r.all(el, "ram:ID") + r.all(el, "ram:GlobalID"))
    ]
    if ids:
        out["identifiers"] = [i for i in ids if i]
    r.put(out, "name", el, "ram:Name", field)
    r.put(out, "additional_legal_info", el, "ram:Description", field)
    legal = r.find(el, "ram:SpecifiedLegalOrganization")
    legal_id = r.ident(legal, "ram:ID", f"{field}.legal_registration_id")
    if legal_id:
        out["legal_registration_id"] = legal_id
    r.put(out, "trading_name", legal, "ram:TradingBusinessName", field)
    contact_el = r.find(el, "ram:DefinedTradeContact")
    if contact_el is not None:
        contact: Data = {}
        r.put(contact, "name", contact_el, "ram:PersonName", f"{field}.contact")
        r.put(
            contact, "phone", contact_el, "ram:TelephoneUniversalCommunication/ram:CompleteNumber", f"{field}.contact"
        )
        r.put(contact, "email", contact_el, "ram:EmailURIUniversalCommunication/ram:URIID", f"{field}.contact")
        out["contact"] = contact
    address = r.find(el, "ram:PostalTradeAddress")
    if address is not None:
        addr: Data = {}
        for key, path in (
            ("postcode", "ram:PostcodeCode"),
            ("line1", "ram:LineOne"),
            ("line2", "ram:LineTwo"),
            ("line3", "ram:LineThree"),
            ("city", "ram:CityName"),
            ("country", "ram:CountryID"),
            ("subdivision", "ram:CountrySubDivisionName"),
        ):
            r.put(addr, key, address, path, f"{field}.address")
        out["address"] = addr
    endpoint = r.ident(el, "ram:URIUniversalCommunication/ram:URIID", f"{field}.electronic_address")
    if endpoint:
        out["electronic_address"] = endpoint
    for reg in r.all(el, "ram:SpecifiedTaxRegistration/ram:ID"):
        key = "vat_id" if reg.get("schemeID") == "VA" else "tax_registration_id"
        r.put(out, key, reg, "", field)
    return out


def _allowance_charge(r: Reader, el: E, field: str) -> Data:
    r.mark(field, el)
    out: Data = {"is_charge": (r.text(el, "ram:ChargeIndicator/udt:Indicator") or "").lower() == "true"}
    for key, path in (
        ("percent", "ram:CalculationPercent"),
        ("base_amount", "ram:BasisAmount"),
        ("amount", "ram:ActualAmount"),
        ("reason_code", "ram:ReasonCode"),
        ("reason", "ram:Reason"),
        ("vat_category", "ram:CategoryTradeTax/ram:CategoryCode"),
        ("vat_rate", "ram:CategoryTradeTax/ram:RateApplicablePercent"),
    ):
        r.put(out, key, el, path, field)
    return out


def _line(r: Reader, el: E, n: int) -> Data:
    field = f"lines[{n}]"
    r.mark(field, el)
    line: Data = {}
    r.put(line, "line_id", el, "ram:AssociatedDocumentLineDocument/ram:LineID", field)
    r.put(line, "note", el, "ram:AssociatedDocumentLineDocument/ram:IncludedNote/ram:Content", field)
    product = r.find(el, "ram:SpecifiedTradeProduct")
    item: Data = {}
    std = r.ident(product, "ram:GlobalID", f"{field}.item.standard_id")
    if std:
        item["standard_id"] = std
    for key, path in (
        ("sellers_id", "ram:SellerAssignedID"),
        ("buyers_id", "ram:BuyerAssignedID"),
        ("name", "ram:Name"),
        ("description", "ram:Description"),
        ("origin_country", "ram:OriginTradeCountry/ram:ID"),
    ):
        r.put(item, key, product, path, f"{field}.item")
    attrs = []
    for i, ch in enumerate(r.all(product, "ram:ApplicableProductCharacteristic")):
        attr: Data = {}
        r.put(attr, "name", ch, "ram:Description", f"{field}.item.attributes[{i}]")
        r.put(attr, "value", ch, "ram:Value", f"{field}.item.attributes[{i}]")
        attrs.append(attr)
    item["attributes"] = attrs
    item["classifications"] = [
        {"value": r.text(c, ""), **({"scheme": c.get("listID")} if c.get("listID") else {})}
        for c in r.all(product, "ram:DesignatedProductClassification/ram:ClassCode")
    ]
    agreement = r.find(el, "ram:SpecifiedLineTradeAgreement")
    r.put(line, "order_line_ref", agreement, "ram:BuyerOrderReferencedDocument/ram:LineID", field)
    price: Data = {}
    r.put(price, "net", agreement, "ram:NetPriceProductTradePrice/ram:ChargeAmount", f"{field}.price")
    r.put(price, "base_quantity", agreement, "ram:NetPriceProductTradePrice/ram:BasisQuantity", f"{field}.price")
    r.put(
        price, "base_unit", agreement, "ram:NetPriceProductTradePrice/ram:BasisQuantity", f"{field}.price", "unitCode"
    )
    r.put(price, "gross", agreement, "ram:GrossPriceProductTradePrice/ram:ChargeAmount", f"{field}.price")
    r.put(
        price,
        "discount",
        agreement,
        "ram:GrossPriceProductTradePrice/ram:AppliedTradeAllowanceCharge/ram:ActualAmount",
        f"{field}.price",
    )
    if price:
        line["price"] = price
    r.put(line, "quantity", el, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", field)
    r.put(line, "unit", el, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", field, attr="unitCode")
    settle = r.find(el, "ram:SpecifiedLineTradeSettlement")
    r.put(item, "vat_category", settle, "ram:ApplicableTradeTax/ram:CategoryCode", f"{field}.item")
    r.put(item, "vat_rate", settle, "ram:ApplicableTradeTax/ram:RateApplicablePercent", f"{field}.item")
    line["item"] = item
    period: Data = {}
    _date(r, period, "start", settle, "ram:BillingSpecifiedPeriod/ram:StartDateTime", f"{field}.period")
    _date(r, period, "end", settle, "ram:BillingSpecifiedPeriod/ram:EndDateTime", f"{field}.period")
    if period:
        line["period"] = period
    line["allowances_charges"] = [
        _allowance_charge(r, a, f"{field}.allowances_charges[{i}]")
        for i, a in enumerate(r.all(settle, "ram:SpecifiedTradeAllowanceCharge"))
    ]
    r.put(line, "net_amount", settle, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount", field)
    r.put(line, "object_id", settle, "ram:AdditionalReferencedDocument/ram:IssuerAssignedID", field)
    r.put(line, "accounting_ref", settle, "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID", field)
    return line


def _settlement(r: Reader, s: E | None, out: Data) -> None:
    for key, path in (
        ("currency", "ram:InvoiceCurrencyCode"),
        ("tax_currency", "ram:TaxCurrencyCode"),
        ("payment_terms", "ram:SpecifiedTradePaymentTerms/ram:Description"),
        ("buyer_accounting_ref", "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID"),
    ):
        r.put(out, key, s, path, "")
    _date(r, out, "due_date", s, "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime", "")
    payee = _party(r, r.find(s, "ram:PayeeTradeParty"), "payee")
    if payee is not None:
        out["payee"] = payee
    remittance, creditor = r.text(s, "ram:PaymentReference"), r.text(s, "ram:CreditorReferenceID")
    mandate = r.text(s, "ram:SpecifiedTradePaymentTerms/ram:DirectDebitMandateID")
    means = []
    for n, pm_el in enumerate(r.all(s, "ram:SpecifiedTradeSettlementPaymentMeans")):
        f = f"payment_means[{n}]"
        pm: Data = {
            k: v for k, v in (("remittance_info", remittance), ("creditor_id", creditor), ("mandate_ref", mandate)) if v
        }
        for key, path in (
            ("code", "ram:TypeCode"),
            ("text", "ram:Information"),
            ("iban", "ram:PayeePartyCreditorFinancialAccount/ram:IBANID"),
            ("iban", "ram:PayeePartyCreditorFinancialAccount/ram:ProprietaryID"),
            ("account_name", "ram:PayeePartyCreditorFinancialAccount/ram:AccountName"),
            ("bic", "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
            ("card_pan", "ram:ApplicableTradeSettlementFinancialCard/ram:ID"),
            ("card_holder", "ram:ApplicableTradeSettlementFinancialCard/ram:CardholderName"),
            ("debited_account", "ram:PayerPartyDebtorFinancialAccount/ram:IBANID"),
        ):
            r.put(pm, key, pm_el, path, f)
        means.append(pm)
    out["payment_means"] = means
    out["vat_breakdown"] = []
    for n, tax in enumerate(r.all(s, "ram:ApplicableTradeTax")):
        row: Data = {}
        for key, path in (
            ("tax_amount", "ram:CalculatedAmount"),
            ("taxable_amount", "ram:BasisAmount"),
            ("category", "ram:CategoryCode"),
            ("rate", "ram:RateApplicablePercent"),
            ("exemption_reason", "ram:ExemptionReason"),
            ("exemption_reason_code", "ram:ExemptionReasonCode"),
        ):
            r.put(row, key, tax, path, f"vat_breakdown[{n}]")
        if "tax_point_date" not in out:
            _date(r, out, "tax_point_date", tax, "ram:TaxPointDate", "")
        out["vat_breakdown"].append(row)
    period: Data = {}
    _date(r, period, "start", s, "ram:BillingSpecifiedPeriod/ram:StartDateTime", "invoice_period")
    _date(r, period, "end", s, "ram:BillingSpecifiedPeriod/ram:EndDateTime", "invoice_period")
    if period:
        out["invoice_period"] = period
    out["allowances_charges"] = [
        _allowance_charge(r, a, f"allowances_charges[{n}]")
        for n, a in enumerate(r.all(s, "ram:SpecifiedTradeAllowanceCharge"))
    ]
    out["preceding_invoices"] = []
    for n, ref in enumerate(r.all(s, "ram:InvoiceReferencedDocument")):
        prev: Data = {}
        r.put(prev, "id", ref, "ram:IssuerAssignedID", f"preceding_invoices[{n}]")
        _date(r, prev, "issue_date", ref, "ram:FormattedIssueDateTime/qdt:DateTimeString", f"preceding_invoices[{n}]")
        out["preceding_invoices"].append(prev)
    summary = r.find(s, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    totals: Data = {}
    for key, path in _TOTALS:
        r.put(totals, key, summary, path, "totals")
    for tax_total in r.all(summary, "ram:TaxTotalAmount"):
        cur = tax_total.get("currencyID")
        key = "vat_total_tax_currency" if cur and cur == out.get("tax_currency") != out.get("currency") else "vat_total"
        r.put(totals, key, tax_total, "", "totals")
    out["totals"] = totals


def read_cii_invoice(r: Reader, root: E) -> Data:
    """A ``rsm:CrossIndustryInvoice`` as canonical invoice data (EN 16931 semantics)."""
    out: Data = {"document_type": "invoice"}
    ctx = r.find(root, "rsm:ExchangedDocumentContext")
    r.put(out, "customization_id", ctx, "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID", "")
    r.put(out, "profile_id", ctx, "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID", "")
    doc = r.find(root, "rsm:ExchangedDocument")
    r.put(out, "document_number", doc, "ram:ID", "")
    r.put(out, "invoice_type_code", doc, "ram:TypeCode", "")
    _date(r, out, "issue_date", doc, "ram:IssueDateTime", "")
    out["notes"] = [n for n in (r.text(x, "") for x in r.all(doc, "ram:IncludedNote/ram:Content")) if n]
    tx = r.find(root, "rsm:SupplyChainTradeTransaction")
    agreement = r.find(tx, "ram:ApplicableHeaderTradeAgreement")
    for key, path in (
        ("buyer_reference", "ram:BuyerReference"),
        ("order_reference", "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
        ("sales_order_reference", "ram:SellerOrderReferencedDocument/ram:IssuerAssignedID"),
        ("contract_reference", "ram:ContractReferencedDocument/ram:IssuerAssignedID"),
        ("project_reference", "ram:SpecifiedProcuringProject/ram:ID"),
    ):
        r.put(out, key, agreement, path, "")
    for key, path in (
        ("seller", "ram:SellerTradeParty"),
        ("buyer", "ram:BuyerTradeParty"),
        ("seller_tax_representative", "ram:SellerTaxRepresentativeTradeParty"),
    ):
        party = _party(r, r.find(agreement, path), key)
        if party is not None:
            out[key] = party
    out["attachments"] = []
    for _n, ref in enumerate(r.all(agreement, "ram:AdditionalReferencedDocument")):
        if r.text(ref, "ram:TypeCode") == "130":
            r.put(out, "invoiced_object_ref", ref, "ram:IssuerAssignedID", "")
            continue
        att: Data = {}
        f = f"attachments[{len(out['attachments'])}]"
        for key, path in (
            ("id", "ram:IssuerAssignedID"),
            ("description", "ram:Name"),
            ("uri", "ram:URIID"),
            ("content_base64", "ram:AttachmentBinaryObject"),
        ):
            r.put(att, key, ref, path, f)
        r.put(att, "mime_code", ref, "ram:AttachmentBinaryObject", f, attr="mimeCode")
        r.put(att, "filename", ref, "ram:AttachmentBinaryObject", f, attr="filename")
        out["attachments"].append(att)
    delivery_el = r.find(tx, "ram:ApplicableHeaderTradeDelivery")
    r.put(out, "despatch_advice_ref", delivery_el, "ram:DespatchAdviceReferencedDocument/ram:IssuerAssignedID", "")
    r.put(out, "receiving_advice_ref", delivery_el, "ram:ReceivingAdviceReferencedDocument/ram:IssuerAssignedID", "")
    delivery: Data = {}
    _date(
        r, delivery, "actual_date", delivery_el, "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime", "delivery"
    )
    ship_to = _party(r, r.find(delivery_el, "ram:ShipToTradeParty"), "delivery.party")
    if ship_to is not None:
        delivery["party"] = ship_to
    if delivery:
        out["delivery"] = delivery
    _settlement(r, r.find(tx, "ram:ApplicableHeaderTradeSettlement"), out)
    out["lines"] = [_line(r, el, n) for n, el in enumerate(r.all(tx, "ram:IncludedSupplyChainTradeLineItem"))]
    return out
