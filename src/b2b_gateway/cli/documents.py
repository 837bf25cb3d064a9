"""``translate`` and ``validate``: one document through the pipeline's checks, from a file or stdin."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_errors, print_json
from b2b_gateway.errors import GatewayError, Location
from b2b_gateway.formats.detect import streamable
from b2b_gateway.pipeline import Message, Pipeline, PipelineContext, State
from b2b_gateway.pipeline.message import AuditEvent
from b2b_gateway.runtime.context import build_context

__all__ = ["FORMAT_ALIASES", "translate", "validate"]

FORMAT_ALIASES = {
    "canonical": "canonical-json",
    "edifact": "edifact",
    "ubl": "ubl",
    "json": "json",
    "cii": "cii",
    "ubl-json": "ubl-json",
}
_OK = {State.CHECKED, State.VALIDATED, State.MAPPED, State.SPLIT}

InputArg = Annotated[str, typer.Argument(help="The document file, or - for standard input", show_default=False)]
PartnerOpt = Annotated[
    str | None, typer.Option("--partner", "-p", help="Partner id (default: identified from the document)")
]


def read_input(name: str) -> bytes:
    """The bytes of a file, or of stdin for ``-``; a usage error (exit 2) if it cannot be read."""
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {name}: {exc.strerror}", param_hint="INPUT") from None


def documents_of(message: Message) -> list[Message]:
    """The leaf messages (the business documents) of a processed input."""
    if not message.children:
        return [message]
    return [leaf for kid in message.children for leaf in documents_of(kid)]


def all_errors(message: Message) -> list[GatewayError]:
    """Every error of a processed input and its split messages, each located in its message."""
    out = list(message.errors)
    for kid in message.children:
        for e in all_errors(kid):
            out.append(e.at(Location(message=kid.message_ref)) if kid.message_ref else e)
    return out


def check_document(
    ctx: typer.Context,
    data: bytes,
    partner: str | None,
    *,
    path: str | None = None,
    context: PipelineContext | None = None,
) -> Message:
    """Run the input (``data``, or the big file at ``path`` read as a stream) through the checks."""
    settings = settings_of(ctx)
    pipeline = Pipeline(context or build_context(settings))
    message = Message(raw=data, channel="cli", path=path, metadata={"partner": partner} if partner else {})
    return asyncio.run(pipeline.run(message, stop_after="check"))


def big_file(ctx: typer.Context, name: str) -> str | None:
    """``name`` when it is an EDIFACT file over ``limits.stream_threshold_bytes`` (read as a stream, never whole)."""
    if name == "-":
        return None
    try:
        size = Path(name).stat().st_size
        if size <= settings_of(ctx).limits.stream_threshold_bytes:
            return None
        with Path(name).open("rb") as fh:
            return name if streamable(fh.read(4096)) else None
    except OSError:
        return None


def document_count(message: Message) -> int:
    """How many business documents the input held (a streamed input counts them; it does not keep them)."""
    return message.child_count if message.path is not None else len(documents_of(message))


def is_accepted(message: Message) -> bool:
    streamed_ok = all(State(state) in _OK for state in message.outcomes)
    return streamed_ok and all(m.state in _OK for m in [message, *documents_of(message)]) and not all_errors(message)


def translate(
    ctx: typer.Context,
    input: InputArg,
    partner: PartnerOpt = None,
    to: Annotated[
        str, typer.Option("--to", "-t", help="Output format: canonical, edifact, ubl, ubl-json, cii or json")
    ] = "canonical",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout")] = None,
    json_errors: Annotated[bool, typer.Option("--json-errors", help="Errors as a JSON array on stderr")] = False,
) -> None:
    """Read a document, check it, map it to canonical and print it (or render it with --to).

    Exit 0 on success, 1 when the document is rejected (every error on stderr), 2 on a usage error.
    """
    fmt = FORMAT_ALIASES.get(to)
    if fmt is None:
        raise typer.BadParameter(f"unknown format {to!r}; use one of {', '.join(FORMAT_ALIASES)}", param_hint="--to")
    path = big_file(ctx, input)
    if path is not None:
        _translate_stream(ctx, path, partner, fmt, output, json_errors)
        return
    data = read_input(input)
    message = check_document(ctx, data, partner)
    if not is_accepted(message):
        print_errors(all_errors(message), as_json=json_errors, source=input)
        raise typer.Exit(1)
    settings = settings_of(ctx)
    context = build_context(settings)
    try:
        codec = context.codecs.get(fmt)
    except GatewayError as exc:
        print_errors([exc], as_json=json_errors)
        raise typer.Exit(2) from None
    docs = [m for m in documents_of(message) if m.canonical is not None]
    try:
        rendered = [codec.from_canonical(m.canonical, context.options(m.partner_id)) for m in docs if m.canonical]
    except GatewayError as exc:
        print_errors([exc], as_json=json_errors, source=input)
        raise typer.Exit(1) from None
    if fmt == "canonical-json" and len(rendered) > 1:
        body = b"[\n" + b",\n".join(rendered) + b"\n]\n"
    else:
        body = b"\n".join(rendered) + (b"\n" if fmt.endswith("json") else b"")
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        output.write_bytes(body)


def _translate_stream(
    ctx: typer.Context, path: str, partner: str | None, fmt: str, output: Path | None, json_errors: bool
) -> None:
    """A big interchange: each checked message is rendered as it goes into a temporary file beside the output,
    which becomes the output only when the whole input is accepted (nothing is written otherwise)."""
    context = build_context(settings_of(ctx))
    try:
        codec = context.codecs.get(fmt)
    except GatewayError as exc:
        print_errors([exc], as_json=json_errors)
        raise typer.Exit(2) from None
    folder = output.parent if output is not None else None
    with tempfile.NamedTemporaryFile("wb", dir=folder, prefix=".translate-", delete=False) as tmp:
        written = [0]
        problems: list[GatewayError] = []

        def render(message: Message, event: AuditEvent) -> None:
            if message.parent_id is None or event.stage != "check" or event.outcome == "error" or problems:
                return
            try:
                body = codec.from_canonical(message.canonical, context.options(message.partner_id))  # type: ignore[arg-type]
            except GatewayError as exc:
                problems.append(exc)
                return
            sep = (
                (b"[\n" if fmt == "canonical-json" else b"")
                if not written[0]
                else (b",\n" if fmt == "canonical-json" else b"\n")
            )
            tmp.write(sep + body)
            written[0] += 1

        context.observers.append(render)
        message = check_document(ctx, b"", partner, path=path, context=context)
        tmp.write((b"\n]\n" if fmt == "canonical-json" else b"\n") if written[0] else b"")
    try:
        if problems or not is_accepted(message):
            print_errors(problems or all_errors(message), as_json=json_errors, source=path)
            raise typer.Exit(1)
        if output is not None:
            Path(tmp.name).replace(output)
            return
        with Path(tmp.name).open("rb") as fh:
            shutil.copyfileobj(fh, sys.stdout.buffer)
        sys.stdout.flush()
    finally:
        Path(tmp.name).unlink(missing_ok=True)


def validate(
    ctx: typer.Context,
    input: InputArg,
    partner: PartnerOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON report on stdout")] = False,
    contrl: Annotated[
        bool, typer.Option("--contrl", help="EDIFACT: print the CONTRL interchange that would be sent back")
    ] = False,
) -> None:
    """Check a document (syntax, structure, mapping, business rules) without producing output. Exit 0 or 1."""
    path = big_file(ctx, input)
    data = b"" if path else read_input(input)
    message = check_document(ctx, data, partner, path=path)
    ok = is_accepted(message)
    warnings = _unique([w for m in [message, *documents_of(message)] for w in m.warnings])
    acks = _contrl(ctx, message) if contrl else []
    if as_json:
        print_json(
            {
                "valid": ok,
                "format": message.format,
                "partner": message.partner_id,
                "document_count": document_count(message),
                "documents": [
                    {
                        "document_type": m.document_type,
                        "business_key": m.business_key,
                        "message_ref": m.message_ref,
                        "state": m.state.value,
                        "errors": [e.to_dict() for e in m.errors],
                        "warnings": [w.to_dict() for w in m.warnings],
                    }
                    for m in documents_of(message)
                ],
                "errors": [e.to_dict() for e in all_errors(message)],
                **({"contrl": [a.decode("latin-1") for a in acks]} if contrl else {}),
            }
        )
    else:
        print_errors(warnings, source=input)
        if ok:
            typer.echo(f"{input}: valid {message.format} ({document_count(message)} document(s))", err=True)
        else:
            print_errors(all_errors(message), source=input)
        for ack in acks:
            sys.stdout.buffer.write(ack)
        sys.stdout.flush()
    raise typer.Exit(0 if ok else 1)


def _unique(errors: list[GatewayError]) -> list[GatewayError]:
    """Each error once (a single-document input lists its warnings as the input's and the document's)."""
    out: list[GatewayError] = []
    for err in errors:
        if all(err is not seen for seen in out):
            out.append(err)
    return out


def _contrl(ctx: typer.Context, message: Message) -> list[bytes]:
    from b2b_gateway.runtime.acknowledgments import contrl_for

    context = build_context(settings_of(ctx))
    return contrl_for(message, context.options(message.partner_id))
