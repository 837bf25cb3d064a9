"""Golden samples: each partner's example documents, run through its mappings and compared.

A partner's samples live in ``mappings/<ID>/samples/<case>/``:

* ``input.<ext>``: a document the partner sends (inbound case). It is read, validated, mapped and
  checked as the pipeline does, and the canonical result is compared with ``canonical.json``.
* ``canonical.json`` alone (outbound case): a canonical document the gateway sends to the partner.
* ``output.<ext>``: the partner-format rendering of the canonical document (outbound cases, and
  inbound cases whose document type the partner also receives).

Renders use fixed control references; EDIFACT outputs are compared one segment a line with the UNB
preparation time masked (``000000:0000``), so outputs are stable.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from b2b_gateway.canonical.documents import Document, document_from_data
from b2b_gateway.errors import DocumentRejected, GatewayError, Location
from b2b_gateway.mapping.canonical_json import dump_canonical
from b2b_gateway.pipeline import Message, Pipeline, PipelineContext, State
from b2b_gateway.pipeline.message import Direction

__all__ = ["FIXED_REFERENCES", "CaseResult", "run_case", "sample_cases"]

FIXED_REFERENCES = {"interchange": "1", "message": "1", "group": "1", "timestamp": "2026-01-01T12:00:00"}
_EXTENSIONS = {"edifact": "edi", "json": "json", "ubl": "xml", "cii": "xml", "xml": "xml", "canonical-json": "json"}


@dataclass(slots=True)
class CaseResult:
    """What running one sample case found."""

    partner: str
    case: str
    direction: str
    ok: bool = True
    updated: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    errors: list[GatewayError] = field(default_factory=list)


def sample_cases(partner_dir: Path) -> list[Path]:
    """The sample case directories of a partner, in name order."""
    base = partner_dir / "samples"
    return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def _diff(expected: str, actual: str, name: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True), actual.splitlines(keepends=True), f"{name} (expected)", f"{name} (actual)"
    )
    return "".join(lines)


_UNB_TIME = re.compile(rb"^(UNB\+[^']*?\+[^']*?\+[^']*?\+)\d{6,8}:\d{4}", re.M)
_TERMINATOR = re.compile(rb"(?<!\?)'(?!\n)")


def normalise_edifact(data: bytes) -> bytes:
    """One segment a line, and the UNB preparation time fixed: what golden EDIFACT files hold."""
    text = _TERMINATOR.sub(b"'\n", data.replace(b"\r\n", b"\n"))
    return _UNB_TIME.sub(rb"\g<1>000000:0000", text)


def _compare(result: CaseResult, path: Path, actual: bytes, update: bool) -> None:
    if update:
        if not path.exists() or path.read_bytes() != actual:
            path.write_bytes(actual)
            result.updated.append(path.name)
        return
    if not path.exists():
        result.ok = False
        result.diffs.append(f"{path.name} is missing (run with --update to write it)")
        return
    expected = path.read_bytes()
    if expected != actual:
        result.ok = False
        result.diffs.append(_diff(expected.decode("utf-8", "replace"), actual.decode("utf-8", "replace"), path.name))


def _inbound(ctx: PipelineContext, partner: str, data: bytes) -> tuple[list[Document], list[GatewayError]]:
    message = Message(raw=data, channel="golden", direction=Direction.INBOUND, metadata={"partner": partner})
    asyncio.run(Pipeline(ctx).run(message, stop_after="check"))
    leaves = list(message.children) or [message]
    errors = [e for m in [message, *message.children] for e in m.errors]
    docs = [m.canonical for m in leaves if m.canonical is not None and m.state in (State.CHECKED, State.MAPPED)]
    return docs, errors


def _render(ctx: PipelineContext, partner: str, document: Document) -> tuple[bytes | None, str, list[GatewayError]]:
    profile = ctx.partners.get(partner)
    fmt = profile.outbound_format(document.document_type) if profile else "canonical-json"
    try:
        codec = ctx.codecs.get(fmt)
        options = ctx.options(partner, dict(FIXED_REFERENCES))
        payload = codec.from_canonical(document, options)
        problems = [e for unit in codec.split(payload, options) for e in codec.validate(unit, options)]
    except DocumentRejected as exc:
        return None, fmt, list(exc.errors)
    except GatewayError as exc:
        return None, fmt, [exc]
    return payload, fmt, [e for e in problems if e.severity == "error"]


def run_case(ctx: PipelineContext, partner: str, case: Path, *, update: bool = False) -> CaseResult:
    """Run one sample case of ``partner`` (see the module docstring); ``update`` rewrites the expectations."""
    inputs = sorted(case.glob("input.*"))
    canonical_path = case / "canonical.json"
    result = CaseResult(partner, case.name, "inbound" if inputs else "outbound")
    shown = str(case)
    document: Document | None = None
    if inputs:
        docs, errors = _inbound(ctx, partner, inputs[0].read_bytes())
        if errors or not docs:
            result.ok = False
            result.errors = [e.at(Location(file=str(inputs[0]))) for e in errors] or [
                GatewayError("the input produced no canonical document", location=Location(file=str(inputs[0])))
            ]
            return result
        document = docs[0]
        _compare(result, canonical_path, dump_canonical(document), update)
    elif canonical_path.exists():
        try:
            document = document_from_data(json.loads(canonical_path.read_text(encoding="utf-8")))
        except (ValueError, GatewayError) as exc:
            result.ok = False
            error = exc if isinstance(exc, GatewayError) else GatewayError(f"canonical.json is not JSON: {exc}")
            result.errors = [error.at(Location(file=str(canonical_path)))]
            return result
    else:
        result.ok = False
        result.errors = [GatewayError(f"sample case {shown} has neither input.* nor canonical.json")]
        return result
    profile = ctx.partners.get(partner)
    renders = profile is not None and profile.exchange(document.document_type, "outbound") is not None
    if renders:
        payload, fmt, errors = _render(ctx, partner, document)
        if errors or payload is None:
            result.ok = False
            result.errors.extend(errors)
            return result
        ext = _EXTENSIONS.get(fmt, "txt")
        _compare(result, case / f"output.{ext}", normalise_edifact(payload) if ext == "edi" else payload, update)
    return result
