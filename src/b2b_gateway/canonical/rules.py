"""Business rules that run on every canonical document.

Two rule sets:

* ``arithmetic``: line net amount = quantity × price / base quantity − allowances + charges
  (``GW-LIN-01``; only a warning when just the sign differs, as in return lines), the sums of lines,
  allowances and charges, the VAT breakdown and the totals (EN 16931 BR-CO-10 … BR-CO-17 and BR-x-08
  per VAT category). Runs on invoices, and on orders and responses where they carry amounts.
* ``en16931``: the presence rules an invoice must meet whatever its syntax (BR-01 … BR-16, BR-25).

Each failure is a :class:`~b2b_gateway.errors.BusinessRuleError` whose ``code`` is the rule id and
whose location names the field (dotted path and JSON pointer). Every failure is reported; those with
``severity == "warning"`` do not reject the document.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from decimal import ROUND_HALF_UP, Decimal

from b2b_gateway.canonical.common import AllowanceCharge, TaxSubtotal, Totals
from b2b_gateway.canonical.documents import Document
from b2b_gateway.canonical.invoice import Invoice
from b2b_gateway.canonical.order import Order
from b2b_gateway.errors import BusinessRuleError, GatewayError, Location

__all__ = ["DEFAULT_RULESETS", "check_business_rules", "line_net", "round2"]

DEFAULT_RULESETS: tuple[str, ...] = ("arithmetic", "en16931")
CENT = Decimal("0.01")
ZERO = Decimal(0)
_CATEGORY_RULE = {
    "S": "S",
    "Z": "Z",
    "E": "E",
    "AE": "AE",
    "K": "IC",
    "G": "G",
    "O": "O",
    "L": "AF",
    "M": "AG",
}


def round2(value: Decimal) -> Decimal:
    """Round half up to two decimals, as EN 16931 amounts are."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _fmt(value: Decimal | None) -> str:
    return "none" if value is None else format(round2(value), "f")


def _pointer(field: str) -> str:
    out = ""
    for part in field.replace("[", ".").replace("]", "").split("."):
        if part:
            out += "/" + part
    return out


def _fail(rule: str, field: str, message: str) -> BusinessRuleError:
    return BusinessRuleError(
        message,
        location=Location(field=field, json_pointer=_pointer(field)),
        code=rule,
        details={"rule": rule},
    )


def line_net(
    quantity: Decimal,
    price: Decimal,
    base_quantity: Decimal | None,
    allowances_charges: Iterable[AllowanceCharge],
) -> Decimal:
    """Quantity × price / base quantity − allowances + charges, unrounded."""
    base = base_quantity if base_quantity not in (None, ZERO) else Decimal(1)
    amount = quantity * price / base
    for ac in allowances_charges:
        amount += ac.amount if ac.is_charge else -ac.amount
    return amount


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), ZERO)


def _doc_ac(acs: list[AllowanceCharge], charge: bool) -> Decimal:
    return _sum(ac.amount for ac in acs if ac.is_charge is charge)


def _check_lines(doc: Invoice | Order) -> Iterator[GatewayError]:
    for i, line in enumerate(doc.lines):
        if line.price is None or line.net_amount is None:
            continue
        expected = round2(line_net(line.quantity, line.price.net, line.price.base_quantity, line.allowances_charges))
        if abs(expected - line.net_amount) <= CENT:
            continue
        detail = (
            f"line {line.line_id}: net amount (BT-131) is {_fmt(line.net_amount)} but quantity "
            f"{line.quantity} × price {line.price.net} / base quantity {line.price.base_quantity or 1} "
            f"− allowances + charges = {_fmt(expected)}"
        )
        error = _fail("GW-LIN-01", f"lines[{i}].net_amount", detail)
        if abs(abs(expected) - abs(line.net_amount)) <= CENT:
            # A return line written with a positive quantity and a negative amount (the official
            # EN 16931 example 1 does this): accepted, but flagged.
            error.severity = "warning"
            error.message += " (only the sign differs: a return line?)"
        yield error


def _check_totals(
    totals: Totals, line_amounts: list[Decimal | None], acs: list[AllowanceCharge], vat: list[TaxSubtotal]
) -> Iterator[GatewayError]:
    if all(a is not None for a in line_amounts):
        lines = _sum(line_amounts)
        if lines != totals.line_net_sum:
            yield _fail(
                "BR-CO-10",
                "totals.line_net_sum",
                f"sum of line net amounts (BT-106) is {_fmt(totals.line_net_sum)} "
                f"but the lines add up to {_fmt(lines)}",
            )
    allowances, charges = _doc_ac(acs, False), _doc_ac(acs, True)
    if allowances != (totals.allowance_total or ZERO):
        yield _fail(
            "BR-CO-11",
            "totals.allowance_total",
            f"sum of allowances (BT-107) is {_fmt(totals.allowance_total)} but the document allowances "
            f"add up to {_fmt(allowances)}",
        )
    if charges != (totals.charge_total or ZERO):
        yield _fail(
            "BR-CO-12",
            "totals.charge_total",
            f"sum of charges (BT-108) is {_fmt(totals.charge_total)} "
            f"but the document charges add up to {_fmt(charges)}",
        )
    expected_excl = totals.line_net_sum - (totals.allowance_total or ZERO) + (totals.charge_total or ZERO)
    if totals.tax_exclusive != expected_excl:
        yield _fail(
            "BR-CO-13",
            "totals.tax_exclusive",
            f"total without VAT (BT-109) is {_fmt(totals.tax_exclusive)} but line sum {_fmt(totals.line_net_sum)} "
            f"− allowances {_fmt(totals.allowance_total or ZERO)} + charges {_fmt(totals.charge_total or ZERO)} "
            f"= {_fmt(expected_excl)}",
        )
    if vat:
        vat_sum = _sum(s.tax_amount for s in vat)
        if (totals.vat_total or ZERO) != vat_sum:
            yield _fail(
                "BR-CO-14",
                "totals.vat_total",
                f"VAT total (BT-110) is {_fmt(totals.vat_total)} but the VAT breakdown adds up to {_fmt(vat_sum)}",
            )
    expected_incl = totals.tax_exclusive + (totals.vat_total or ZERO)
    if totals.tax_inclusive != expected_incl:
        yield _fail(
            "BR-CO-15",
            "totals.tax_inclusive",
            f"total with VAT (BT-112) is {_fmt(totals.tax_inclusive)} but total without VAT "
            f"{_fmt(totals.tax_exclusive)} + VAT {_fmt(totals.vat_total or ZERO)} = {_fmt(expected_incl)}",
        )
    expected_payable = totals.tax_inclusive - (totals.prepaid or ZERO) + (totals.rounding or ZERO)
    if totals.payable != expected_payable:
        yield _fail(
            "BR-CO-16",
            "totals.payable",
            f"amount due (BT-115) is {_fmt(totals.payable)} but total with VAT {_fmt(totals.tax_inclusive)} "
            f"− prepaid {_fmt(totals.prepaid or ZERO)} + rounding {_fmt(totals.rounding or ZERO)} "
            f"= {_fmt(expected_payable)}",
        )


def _check_vat(doc: Invoice | Order) -> Iterator[GatewayError]:
    for i, sub in enumerate(doc.vat_breakdown):
        if sub.rate is not None:
            expected = round2(sub.taxable_amount * sub.rate / 100)
            if abs(expected - sub.tax_amount) > CENT:
                yield _fail(
                    "BR-CO-17",
                    f"vat_breakdown[{i}].tax_amount",
                    f"VAT category {sub.category} at {sub.rate}%: tax amount (BT-117) is {_fmt(sub.tax_amount)} "
                    f"but taxable amount {_fmt(sub.taxable_amount)} × {sub.rate}% = {_fmt(expected)}",
                )
    if not doc.lines or any(line.item.vat_category is None or line.net_amount is None for line in doc.lines):
        return
    for i, sub in enumerate(doc.vat_breakdown):

        def same(cat: str | None, rate: Decimal | None, sub: TaxSubtotal = sub) -> bool:
            return cat == sub.category and (sub.rate is None or rate is None or rate == sub.rate)

        base = _sum(line.net_amount for line in doc.lines if same(line.item.vat_category, line.item.vat_rate))
        base += _sum(ac.amount for ac in doc.allowances_charges if ac.is_charge and same(ac.vat_category, ac.vat_rate))
        base -= _sum(
            ac.amount for ac in doc.allowances_charges if not ac.is_charge and same(ac.vat_category, ac.vat_rate)
        )
        if round2(base) != sub.taxable_amount:
            rule = f"BR-{_CATEGORY_RULE.get(sub.category, sub.category)}-08"
            yield _fail(
                rule,
                f"vat_breakdown[{i}].taxable_amount",
                f"VAT category {sub.category}"
                + (f" at {sub.rate}%" if sub.rate is not None else "")
                + f": taxable amount (BT-116) is {_fmt(sub.taxable_amount)} but the lines, allowances "
                f"and charges of that category add up to {_fmt(base)}",
            )


def _check_en16931(doc: Invoice) -> Iterator[GatewayError]:
    presence: list[tuple[str, str, object, str]] = [
        ("BR-06", "seller.name", doc.seller.name, "the seller's name (BT-27) is required"),
        ("BR-07", "buyer.name", doc.buyer.name, "the buyer's name (BT-44) is required"),
        ("BR-08", "seller.address", doc.seller.address, "the seller's postal address (BG-5) is required"),
        (
            "BR-09",
            "seller.address.country",
            doc.seller.address and doc.seller.address.country,
            "the seller's country (BT-40) is required",
        ),
        ("BR-10", "buyer.address", doc.buyer.address, "the buyer's postal address (BG-8) is required"),
        (
            "BR-11",
            "buyer.address.country",
            doc.buyer.address and doc.buyer.address.country,
            "the buyer's country (BT-55) is required",
        ),
    ]
    for rule, field, value, text in presence:
        if not value:
            yield _fail(rule, field, text)
    for i, line in enumerate(doc.lines):
        if not line.item.name:
            yield _fail("BR-25", f"lines[{i}].item.name", f"line {line.line_id}: the item name (BT-153) is required")
        if line.item.vat_category is None:
            yield _fail(
                "BR-CO-04",
                f"lines[{i}].item.vat_category",
                f"line {line.line_id}: the VAT category (BT-151) is required",
            )


Rule = Callable[[Document], Iterator[GatewayError]]


def _arithmetic(doc: Document) -> Iterator[GatewayError]:
    if isinstance(doc, Invoice | Order):
        yield from _check_lines(doc)
        if doc.totals is not None:
            yield from _check_totals(
                doc.totals, [line.net_amount for line in doc.lines], doc.allowances_charges, doc.vat_breakdown
            )
        yield from _check_vat(doc)


def _en16931(doc: Document) -> Iterator[GatewayError]:
    if isinstance(doc, Invoice):
        yield from _check_en16931(doc)


RULESETS: dict[str, Rule] = {"arithmetic": _arithmetic, "en16931": _en16931}


def check_business_rules(doc: Document, *, rulesets: Collection[str] = DEFAULT_RULESETS) -> list[GatewayError]:
    """Run the named rule sets on ``doc`` and return every failure (empty when the document is sound)."""
    errors: list[GatewayError] = []
    for name in rulesets:
        errors.extend(RULESETS[name](doc))
    return errors
