"""Running a compiled mapping between a partner tree and a validated canonical document.

Used by every mapping-driven codec (partner JSON, partner XML, EDIFACT). Inbound, the mapping's own
errors and the canonical model's field errors are reported together, each pointing at the mapping
rule and at the place in the partner's document the value came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from b2b_gateway.canonical.documents import Document, document_from_data
from b2b_gateway.errors import DocumentRejected, GatewayError, Location
from b2b_gateway.mapping.clean_pass import clean_reader
from b2b_gateway.mapping.engine import MappingRun, map_inbound, map_outbound
from b2b_gateway.mapping.plan import CompiledMapping

__all__ = ["canonical_from_tree", "locate_canonical_errors", "tree_from_canonical"]


def _static(pointer: str) -> str:
    return ".".join(p for p in pointer.strip("/").split("/") if p and not p.isdigit())


def _covered(pointer: str | None, failed: set[str]) -> bool:
    """Whether a canonical error is the echo of a mapping error already reported there."""
    return pointer is not None and any(pointer == f or pointer.startswith(f + "/") for f in failed)


def locate_canonical_errors(errors: list[GatewayError], mapping: CompiledMapping, run: MappingRun) -> None:
    """Point each canonical field error at the mapping rule and at the source of its value."""
    for err in errors:
        pointer = err.location.json_pointer
        if pointer is None:
            continue
        field = _static(pointer)
        rule = None
        while field and rule is None:
            rule = mapping.rules.get(field)
            field = field.rpartition(".")[0]
        probe = pointer
        source: Location | None = None
        while probe and source is None:
            source = run.source(probe)
            probe = probe.rpartition("/")[0]
        location = err.location
        if source is not None:
            location = replace(source, field=location.field, mapping=rule)
        elif rule is not None:
            location = replace(location, mapping=rule)
        err.location = location


def canonical_from_tree(
    mapping: CompiledMapping,
    tree: Any,
    *,
    source: dict[str, Any] | None = None,
    where: Callable[[Location], Location] | None = None,
) -> Document:
    """The canonical document the mapping makes of ``tree``.

    Args:
        mapping: the compiled mapping (inbound or both).
        tree: the partner's parsed document (EDIFACT group tree, XML element, JSON value).
        source: the ``source`` reference to record in the canonical document.
        where: completes each error's location (adds the message reference, a line number …).

    An EDIFACT document is first mapped by the mapping's clean pass (:mod:`.clean_pass`), which does
    not record where each value came from; its document is kept when that run found no error and the
    canonical model validates it. Otherwise, and for the other syntaxes, the engine maps the document
    and every error is located.

    Raises:
        DocumentRejected: every mapping error and canonical field error, located.
    """
    clean = clean_reader(mapping)
    if clean is not None:
        run = MappingRun(mapping)
        data = clean(run, tree) or {}
        if not run.errors:
            data.setdefault("document_type", mapping.document)
            _add_source(data, source)
            accepted = _accepted(data)
            if accepted is not None:
                return accepted
    data, run = map_inbound(mapping, tree)  # again with the engine: every error located
    _add_source(data, source)
    errors: list[GatewayError] = list(run.errors)
    document: Document | None = None
    try:
        document = document_from_data(data)
    except DocumentRejected as exc:
        fresh = [e for e in exc.errors if not _covered(e.location.json_pointer, run.failed)]
        locate_canonical_errors(fresh, mapping, run)
        errors.extend(fresh)
    except GatewayError as exc:
        errors.append(exc)
    if where is not None:
        for err in errors:
            err.location = where(err.location)
    if errors or document is None:
        raise DocumentRejected(errors)
    return document


def _accepted(data: dict[str, Any]) -> Document | None:
    """The canonical document, or ``None`` when the model rejects the data (the engine's pass says why)."""
    try:
        return document_from_data(data)
    except GatewayError:
        return None


def _add_source(data: dict[str, Any], source: dict[str, Any] | None) -> None:
    if source:
        data.setdefault("source", {k: v for k, v in source.items() if v is not None})


def tree_from_canonical(mapping: CompiledMapping, document: Document) -> Any:
    """The partner tree the mapping makes of ``document``. Raises DocumentRejected on mapping errors."""
    data = document.model_dump(mode="json", exclude_none=True)
    tree, run = map_outbound(mapping, data)
    if run.errors:
        raise DocumentRejected(run.errors)
    return tree
