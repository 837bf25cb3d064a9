"""Business rules: each names its rule and field; hypothesis checks the arithmetic."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b2b_gateway.canonical import Invoice, document_from_data
from b2b_gateway.canonical.rules import check_business_rules, line_net, round2
from tests.conftest import load_fixture


def _invoice(**changes: Any) -> dict[str, Any]:
    data = load_fixture("canonical/invoice.json")
    for dotted, value in changes.items():
        node: Any = data
        parts = dotted.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if p.isdigit() else node[p]
        node[parts[-1]] = value
    return data


def _codes(data: dict[str, Any], rulesets: tuple[str, ...] = ("arithmetic", "en16931")) -> dict[str, str]:
    doc = document_from_data(data)
    return {e.code: str(e.location.field) for e in check_business_rules(doc, rulesets=rulesets)}


def test_sound_fixtures_pass() -> None:
    assert _codes(load_fixture("canonical/invoice.json")) == {}
    assert _codes(load_fixture("canonical/order.json")) == {}


@pytest.mark.parametrize(
    ("changes", "rule", "field"),
    [
        (
            {"lines.0.net_amount": "126.00", "totals.line_net_sum": "145.90"},
            "GW-LIN-01",
            "lines[0].net_amount",
        ),
        ({"totals.line_net_sum": "144.00"}, "BR-CO-10", "totals.line_net_sum"),
        ({"totals.allowance_total": "6.00"}, "BR-CO-11", "totals.allowance_total"),
        ({"totals.charge_total": "11.00"}, "BR-CO-12", "totals.charge_total"),
        ({"totals.tax_exclusive": "150.00"}, "BR-CO-13", "totals.tax_exclusive"),
        ({"totals.vat_total": "27.31"}, "BR-CO-14", "totals.vat_total"),
        ({"totals.tax_inclusive": "187.20"}, "BR-CO-15", "totals.tax_inclusive"),
        ({"totals.payable": "177.00"}, "BR-CO-16", "totals.payable"),
        ({"vat_breakdown.0.tax_amount": "27.00"}, "BR-CO-17", "vat_breakdown[0].tax_amount"),
        ({"vat_breakdown.0.taxable_amount": "131.00"}, "BR-S-08", "vat_breakdown[0].taxable_amount"),
        ({"seller.name": None}, "BR-06", "seller.name"),
        ({"buyer.address": None}, "BR-10", "buyer.address"),
        ({"lines.1.item.name": None}, "BR-25", "lines[1].item.name"),
    ],
)
def test_each_rule_names_itself_and_its_field(changes: dict[str, Any], rule: str, field: str) -> None:
    found = _codes(_invoice(**changes))
    assert rule in found, found
    assert found[rule] == field


def test_all_failures_are_reported_not_only_the_first() -> None:
    found = _codes(_invoice(**{"totals.line_net_sum": "1.00", "totals.payable": "0.00", "seller.name": None}))
    assert {"BR-CO-10", "BR-CO-13", "BR-CO-16", "BR-06"} <= set(found)


def test_rule_sets_can_be_chosen() -> None:
    data = _invoice(**{"seller.name": None})
    assert "BR-06" not in _codes(data, rulesets=("arithmetic",))


def test_line_net_with_base_quantity_and_allowances() -> None:
    from b2b_gateway.canonical.common import AllowanceCharge

    acs = [
        AllowanceCharge(is_charge=False, amount=Decimal("1.50")),
        AllowanceCharge(is_charge=True, amount=Decimal("0.25")),
    ]
    assert line_net(Decimal(3), Decimal("10.00"), Decimal(2), acs) == Decimal("13.75")


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2)
qty = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999"), places=3)
rates = st.sampled_from([Decimal(0), Decimal(7), Decimal("9.5"), Decimal(19), Decimal(21)])


@st.composite
def consistent_invoice(draw: st.DrawFn) -> dict[str, Any]:
    """An invoice whose every amount follows from quantities, prices, allowances, charges and rates."""
    n = draw(st.integers(1, 6))
    lines, by_rate = [], {}
    for i in range(n):
        q, p, rate = draw(qty), draw(money), draw(rates)
        allowance = draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=5, places=2)))
        acs = [{"is_charge": False, "amount": str(allowance)}] if allowance else []
        net = round2(q * p - (allowance or 0))
        cat = "Z" if rate == 0 else "S"
        lines.append(
            {
                "line_id": str(i + 1),
                "quantity": str(q),
                "unit": "C62",
                "net_amount": str(net),
                "price": {"net": str(p)},
                "allowances_charges": acs,
                "item": {"name": f"item {i}", "vat_category": cat, "vat_rate": str(rate)},
            }
        )
        by_rate[(cat, rate)] = by_rate.get((cat, rate), Decimal(0)) + net
    charge = draw(st.one_of(st.none(), money))
    doc_acs = []
    first_cat, first_rate = lines[0]["item"]["vat_category"], Decimal(lines[0]["item"]["vat_rate"])
    if charge:
        doc_acs.append(
            {"is_charge": True, "amount": str(charge), "vat_category": first_cat, "vat_rate": str(first_rate)}
        )
        by_rate[(first_cat, first_rate)] += charge
    vat = [
        {
            "taxable_amount": str(base),
            "tax_amount": str(round2(base * rate / 100)),
            "category": cat,
            "rate": str(rate),
        }
        for (cat, rate), base in by_rate.items()
    ]
    line_sum = sum(Decimal(x["net_amount"]) for x in lines)
    excl = line_sum + (charge or 0)
    vat_total = sum(Decimal(v["tax_amount"]) for v in vat)
    prepaid = draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=max(excl, Decimal(0)), places=2)))
    data = load_fixture("canonical/invoice.json")
    data.update(
        lines=lines,
        allowances_charges=doc_acs,
        vat_breakdown=vat,
        totals={
            "line_net_sum": str(line_sum),
            "charge_total": str(charge) if charge else None,
            "tax_exclusive": str(excl),
            "vat_total": str(vat_total),
            "tax_inclusive": str(excl + vat_total),
            "prepaid": str(prepaid) if prepaid is not None else None,
            "payable": str(excl + vat_total - (prepaid or 0)),
        },
    )
    return data


@settings(max_examples=200, deadline=None)
@given(consistent_invoice())
def test_consistent_invoices_always_pass(data: dict[str, Any]) -> None:
    doc = document_from_data(data)
    assert isinstance(doc, Invoice)
    assert check_business_rules(doc) == []


@settings(max_examples=200, deadline=None)
@given(
    consistent_invoice(),
    st.sampled_from(["line_net_sum", "tax_exclusive", "tax_inclusive", "payable"]),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2),
)
def test_any_broken_total_is_caught_by_its_rule(data: dict[str, Any], field: str, delta: Decimal) -> None:
    data["totals"][field] = str(Decimal(data["totals"][field]) + delta)
    errors = check_business_rules(document_from_data(data))
    expected = {
        "line_net_sum": "BR-CO-10",
        "tax_exclusive": "BR-CO-13",
        "tax_inclusive": "BR-CO-15",
        "payable": "BR-CO-16",
    }
    assert expected[field] in {e.code for e in errors}
    assert all(e.location.field for e in errors)


def test_a_return_line_with_only_the_sign_wrong_is_a_warning() -> None:
    data = _invoice(**{"lines.1.net_amount": "-19.90"})
    data["totals"].update(line_net_sum="105.10", tax_exclusive="110.10", tax_inclusive="137.40", payable="137.40")
    data["vat_breakdown"][1]["taxable_amount"] = "-19.90"
    errors = check_business_rules(document_from_data(data))
    assert [(e.code, e.severity) for e in errors] == [("GW-LIN-01", "warning")]
    assert "only the sign differs" in errors[0].message
