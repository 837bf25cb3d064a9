"""UBL 2.1 <-> canonical for line content: the item (BG-31) and its price (BG-29)."""

from __future__ import annotations

from b2b_gateway.canonical.common import Item, Price
from b2b_gateway.formats.xml.ubl_tree import sub
from b2b_gateway.mapping.ubl.common import E, ident_element, tax_category, write_tax_category
from b2b_gateway.mapping.ubl.reader import Data, Reader

__all__ = ["read_item", "read_price", "write_item", "write_price"]


def read_price(r: Reader, el: E | None, field: str) -> Data | None:
    if el is None:
        return None
    r.mark(field, el)
    out: Data = {}
    r.put(out, "net", el, "cbc:PriceAmount", field)
    r.put(out, "base_quantity", el, "cbc:BaseQuantity", field)
    r.put(out, "base_unit", el, "cbc:BaseQuantity", field, attr="unitCode")
    discount = r.find(el, "cac:AllowanceCharge")
    r.put(out, "discount", discount, "cbc:Amount", field)
    r.put(out, "gross", discount, "cbc:BaseAmount", field)
    return out


def write_price(parent: E, price: Price | None, currency: str | None) -> None:
    if price is None:
        return
    el = sub(parent, "cac:Price")
    sub(el, "cbc:PriceAmount", price.net, currencyID=currency)
    if price.base_quantity is not None:
        sub(el, "cbc:BaseQuantity", price.base_quantity, unitCode=price.base_unit)
    if price.discount is not None or price.gross is not None:
        ac = sub(el, "cac:AllowanceCharge")
        sub(ac, "cbc:ChargeIndicator", False)
        sub(ac, "cbc:Amount", price.discount if price.discount is not None else 0, currencyID=currency)
        if price.gross is not None:
            sub(ac, "cbc:BaseAmount", price.gross, currencyID=currency)


def read_item(r: Reader, el: E | None, field: str) -> Data:
    out: Data = {}
    if el is None:
        return out
    r.mark(field, el)
    r.put(out, "name", el, "cbc:Name", field)
    r.put(out, "description", el, "cbc:Description", field)
    r.put(out, "buyers_id", el, "cac:BuyersItemIdentification/cbc:ID", field)
    r.put(out, "sellers_id", el, "cac:SellersItemIdentification/cbc:ID", field)
    r.put(out, "manufacturer_id", el, "cac:ManufacturersItemIdentification/cbc:ID", field)
    std = r.ident(el, "cac:StandardItemIdentification/cbc:ID", f"{field}.standard_id")
    if std:
        out["standard_id"] = std
    r.put(out, "origin_country", el, "cac:OriginCountry/cbc:IdentificationCode", field)
    classes = []
    for n, c in enumerate(r.all(el, "cac:CommodityClassification/cbc:ItemClassificationCode")):
        r.mark(f"{field}.classifications[{n}]", c)
        classes.append({"value": r.text(c, ""), **({"scheme": c.get("listID")} if c.get("listID") else {})})
    if classes:
        out["classifications"] = classes
    tax_category(r, r.find(el, "cac:ClassifiedTaxCategory"), out, field, "vat_category", "vat_rate")
    attrs = []
    for n, a in enumerate(r.all(el, "cac:AdditionalItemProperty")):
        attr: Data = {}
        r.put(attr, "name", a, "cbc:Name", f"{field}.attributes[{n}]")
        r.put(attr, "value", a, "cbc:Value", f"{field}.attributes[{n}]")
        attrs.append(attr)
    if attrs:
        out["attributes"] = attrs
    return out


def write_item(parent: E, item: Item) -> None:
    el = sub(parent, "cac:Item")
    if item.description is not None:
        sub(el, "cbc:Description", item.description)
    if item.name is not None:
        sub(el, "cbc:Name", item.name)
    for value, name in (
        (item.buyers_id, "BuyersItemIdentification"),
        (item.sellers_id, "SellersItemIdentification"),
        (item.manufacturer_id, "ManufacturersItemIdentification"),
    ):
        if value is not None:
            sub(sub(el, f"cac:{name}"), "cbc:ID", value)
    if item.standard_id is not None:
        ident_element(sub(el, "cac:StandardItemIdentification"), "cbc:ID", item.standard_id)
    if item.origin_country is not None:
        sub(sub(el, "cac:OriginCountry"), "cbc:IdentificationCode", item.origin_country)
    for c in item.classifications:
        sub(sub(el, "cac:CommodityClassification"), "cbc:ItemClassificationCode", c.value, listID=c.scheme)
    write_tax_category(el, "cac:ClassifiedTaxCategory", item.vat_category, item.vat_rate)
    for a in item.attributes:
        prop = sub(el, "cac:AdditionalItemProperty")
        sub(prop, "cbc:Name", a.name)
        sub(prop, "cbc:Value", a.value)
