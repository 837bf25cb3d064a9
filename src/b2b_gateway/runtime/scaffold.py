"""``partners init``: a new partner's directory that already runs on a sample.

It writes ``mappings/<ID>/partner.yaml``, a mapping file to adapt (EDIFACT: a copy of the standard
EANCOM D96A mapping with its code tables; JSON: a documented template), and a golden sample made
from an example canonical document, then runs the sample once to write the expected files, so that
``mappings test <ID>`` passes from the start and every later edit shows as a diff.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

from b2b_gateway.canonical.documents import Document, document_from_data
from b2b_gateway.errors import DocumentRejected, GatewayError, PartnerConfigError
from b2b_gateway.formats.edifact.writer import message_segments, write_interchange
from b2b_gateway.mapping.catalog import MappingCatalog
from b2b_gateway.mapping.registry import default_registry
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.loader import STANDARD_DIR, load_partner
from b2b_gateway.partners.profile import PartnerProfile
from b2b_gateway.pipeline import PipelineContext
from b2b_gateway.runtime.golden import FIXED_REFERENCES, run_case

__all__ = ["DOCUMENTS", "FORMATS", "scaffold_partner"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("edifact", "json", "ubl")
DOCUMENTS = ("order", "order_response", "despatch_advice", "invoice")
_MESSAGES = {"order": "ORDERS", "order_response": "ORDRSP", "despatch_advice": "DESADV", "invoice": "INVOIC"}
_DEFAULT_DIRECTION = {
    "order": "inbound",
    "order_response": "outbound",
    "despatch_advice": "outbound",
    "invoice": "outbound",
}
_ALIASES = {"orders": "order", "ordrsp": "order_response", "desadv": "despatch_advice", "invoic": "invoice"}


def _profile_text(
    partner: str, fmt: str, document: str, direction: str, version: str | None, mapping: str | None
) -> str:
    lines = [
        "# yaml-language-server: $schema=../../schemas/partner.schema.json",
        f"# Partner {partner}: created by `b2b-gateway partners init`. Fill in its real identifiers,",
        "# channels and security policy before going to production.",
        f"id: {partner}",
        f"name: {partner}",
        "mode: test",
        "identifiers:",
    ]
    if fmt == "edifact":
        lines.append(f"  - {{value: {partner}, kind: edifact, qualifier: ZZZ}}")
    else:
        lines.append(f"  - {{value: {partner}, kind: other}}")
    exchange = f"  - {{document: {document}, direction: {direction}, format: {fmt}"
    if version:
        exchange += f", version: {version}"
    if fmt == "edifact":
        exchange += f", message_type: {_MESSAGES[document]}"
    if mapping:
        exchange += f", mapping: {mapping}"
    lines += [
        "documents:",
        exchange + "}",
        "channels:",
        f"  - {{name: drop, kind: directory, path: var/partners/{partner}}}",
    ]
    lines += ["acknowledgments: {contrl: on_request}", "duplicates: reject", ""]
    return "\n".join(lines)


def _copy_standard(root: Path, target: Path, document: str) -> str:
    base = root / STANDARD_DIR / "eancom-d96a"
    source = base / f"{_MESSAGES[document].lower()}.yaml"
    if not source.is_file():
        raise PartnerConfigError(f"no standard mapping {source} to start from")
    text = source.read_text(encoding="utf-8").replace("../../../schemas/", "../../schemas/")
    name = source.name
    (target / name).write_text(text, encoding="utf-8")
    tables = base / "tables"
    if tables.is_dir():
        shutil.copytree(tables, target / "tables", dirs_exist_ok=True)
    return name


def _copy_json(target: Path, document: str) -> str:
    source = TEMPLATES / f"json-{document}.yaml"
    if not source.is_file():
        raise PartnerConfigError(
            f"no JSON template for {document} documents",
            hint="start from `partners init X --format json --document order` and adapt its mapping",
        )
    name = f"{document}.yaml"
    shutil.copyfile(source, target / name)
    (target / "tables").mkdir(exist_ok=True)
    shutil.copyfile(TEMPLATES / "units.csv", target / "tables" / "units.csv")
    return name


def _sample_input(ctx: PipelineContext, profile: PartnerProfile, fmt: str, document: Document, company: str) -> bytes:
    codec = ctx.codecs.get(fmt)
    options = ctx.options(profile.id, dict(FIXED_REFERENCES))
    if fmt == "edifact":
        mapper = getattr(codec, "mapper", None)
        if mapper is not None:  # as the partner sends it: from the partner, to us
            out = mapper.from_canonical(document, options)
            message = message_segments(
                "1", out.message_type, out.version, out.release, out.agency, out.association, out.segments
            )
            return write_interchange(
                [message],
                sender=profile.id,
                sender_qualifier="ZZZ",
                recipient=company,
                recipient_qualifier="ZZZ",
                control_ref="1",
                prepared=dt.datetime.fromisoformat(FIXED_REFERENCES["timestamp"]),
                newline=True,
            )
    return codec.from_canonical(document, options)


def scaffold_partner(
    root: Path,
    partner: str,
    fmt: str,
    document: str,
    *,
    version: str | None = None,
    direction: str | None = None,
    company: str = "GATEWAY",
) -> list[Path]:
    """Create ``root/<partner>/`` with a profile, a mapping and a passing golden sample; the files written.

    Raises:
        PartnerConfigError: a bad id, format or document type, or the partner exists already.
    """
    document = _ALIASES.get(document.lower(), document.lower())
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", partner) or partner.startswith(("_", ".")):
        raise PartnerConfigError(f"{partner!r} is not a partner id: use letters, digits, '.', '_' and '-'")
    if fmt not in FORMATS:
        raise PartnerConfigError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    if document not in DOCUMENTS:
        raise PartnerConfigError(f"unknown document {document!r}", hint=f"use one of {', '.join(DOCUMENTS)}")
    target = root / partner
    if target.exists():
        raise PartnerConfigError(f"{target} exists already", hint="pick another id, or edit the existing files")
    direction = direction or _DEFAULT_DIRECTION[document]
    if direction not in ("inbound", "outbound"):
        raise PartnerConfigError(f"direction is inbound or outbound, not {direction!r}")
    target.mkdir(parents=True)
    mapping = None
    if fmt == "edifact":
        version = version or "D96A"
        mapping = _copy_standard(root, target, document)
    elif fmt == "json":
        mapping = _copy_json(target, document)
    (target / "partner.yaml").write_text(
        _profile_text(partner, fmt, document, direction, version, mapping), encoding="utf-8"
    )
    bundle, errors = load_partner(target, root=root)
    if bundle is None:
        raise PartnerConfigError(f"the scaffolded partner does not load: {next(iter(errors), '')}")
    catalog = MappingCatalog({partner: bundle.mappings})
    ctx = PipelineContext(
        codecs=default_registry(catalog), partners=PartnerDirectory([bundle.profile]), company_id=company
    )
    sample = document_from_data(json.loads((TEMPLATES / f"{document}.json").read_text(encoding="utf-8")))
    case = target / "samples" / f"{document}-{'in' if direction == 'inbound' else 'out'}"
    case.mkdir(parents=True)
    try:
        if direction == "inbound":
            data = _sample_input(ctx, bundle.profile, fmt, sample, company)
            (case / f"input.{'edi' if fmt == 'edifact' else 'xml' if fmt == 'ubl' else 'json'}").write_bytes(data)
        else:
            (case / "canonical.json").write_text(
                json.dumps(sample.model_dump(mode="json", exclude_none=True), indent=2) + "\n"
            )
    except (DocumentRejected, GatewayError) as exc:
        raise PartnerConfigError(f"cannot make a sample in {fmt}: {exc}") from None
    result = run_case(ctx, partner, case, update=True)
    if not result.ok:
        problem = result.errors[0] if result.errors else GatewayError("; ".join(result.diffs))
        raise PartnerConfigError(f"the scaffolded sample does not pass: {problem}")
    return sorted(p for p in target.rglob("*") if p.is_file())
