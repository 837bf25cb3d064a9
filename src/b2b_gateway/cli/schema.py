"""``schema export``: write the canonical JSON Schemas (the ERP contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from b2b_gateway.canonical.schema import document_schemas, render_schema

__all__ = ["app", "export"]

app = typer.Typer(help="The canonical model's JSON Schemas.", no_args_is_help=True)

DEFAULT_DIR = Path("schemas/canonical")


@app.command("export")
def export(
    directory: Annotated[Path, typer.Option("--dir", "-d", help="Where to write the schemas")] = DEFAULT_DIR,
    check: Annotated[
        bool, typer.Option("--check", help="Only check that the files are current (exit 1 if not)")
    ] = False,
) -> None:
    """Write one JSON Schema per canonical document type into DIR."""
    stale: list[str] = []
    for name, schema in document_schemas().items():
        path = directory / name
        text = render_schema(schema)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {path}")
    if stale:
        typer.echo("stale schema files (run: b2b-gateway schema export): " + ", ".join(stale), err=True)
        raise typer.Exit(1)
