"""Mapping functions that ship with the gateway (entry point group ``b2b_gateway.mapping_functions``).

A mapping file names one with ``function: NAME`` (inbound) or ``function: {inbound: A, outbound: B}``.
Each is a plain function of the value and a :class:`~b2b_gateway.mapping.transforms.FunctionContext`;
a partner's own functions are registered the same way, in its own package's ``pyproject.toml``::

    [project.entry-points."b2b_gateway.mapping_functions"]
    my_function = "my_package.module:my_function"
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from b2b_gateway.mapping.transforms import FunctionContext

__all__ = ["count", "ordrsp_line_status"]


def count(value: Any, context: FunctionContext) -> str:
    """How many items ``value`` has (``CNT+2``: the number of lines)."""
    return str(len(value) if isinstance(value, list | dict) else (0 if value in (None, "") else 1))


def _number(text: str | None) -> Decimal | None:
    try:
        return Decimal((text or "").replace(",", ".")) if text else None
    except InvalidOperation:
        return None


def ordrsp_line_status(value: Any, context: FunctionContext) -> str:
    """An ORDRSP line's status from its quantities (D96A has no line status element).

    ``value`` is the confirmed quantity (QTY+113); the ordered one is read from QTY+21. Nothing
    confirmed is ``rejected``, less than ordered ``short``; a line with a reason (FTX+AAO) is
    ``changed``; anything else ``accepted``.
    """
    confirmed = _number(str(value) if value is not None else None)
    ordered = _number(context.read("QTY[C186/6063=21]/C186/6060"))
    if confirmed is not None and confirmed == 0:
        return "rejected"
    if confirmed is not None and ordered is not None and confirmed < ordered:
        return "short"
    if context.read("**/FTX[4451=AAO]/C108/4440"):
        return "changed"
    return "accepted"
