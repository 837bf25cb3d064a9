"""The root ``b2b-gateway`` command and its global options."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from b2b_gateway._version import __version__
from b2b_gateway.cli.output import print_errors
from b2b_gateway.errors import GatewayError
from b2b_gateway.observability.logging import configure_logging
from b2b_gateway.settings import Settings, load_settings

__all__ = ["app", "main", "settings_of"]

app = typer.Typer(
    name="b2b-gateway",
    help="An EDI and message-integration gateway: EDIFACT, UBL, CII and JSON between companies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"b2b-gateway {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML settings file (also $B2B_CONFIG)", show_default=False),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    """b2b-gateway: partner documents in, canonical documents out, nothing lost."""
    try:
        settings = load_settings(config)
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(2) from None
    configure_logging(
        settings.logging.model_copy(update={"level": "WARNING"})
        if ctx.invoked_subcommand != "run"
        else settings.logging
    )
    ctx.obj = settings
    ctx.meta["config_file"] = config  # for the processes of `run --workers`


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the root command loaded."""
    obj = ctx.find_root().obj
    assert isinstance(obj, Settings)
    return obj


def _register() -> None:
    from b2b_gateway.cli import (
        bulk,
        certs,
        db,
        doctor,
        documents,
        imports,
        mappings,
        messages,
        partners,
        queues,
        run,
        schema,
        schemas,
        signing,
        status,
        users,
    )

    app.command("translate")(documents.translate)
    app.command("validate")(documents.validate)
    app.command("run")(run.run)
    app.add_typer(schema.app, name="schema")
    app.add_typer(certs.app, name="certs")
    app.command("sign")(signing.sign)
    app.command("verify")(signing.verify)
    app.add_typer(schemas.app, name="schemas")
    app.command("doctor")(doctor.doctor)
    app.add_typer(partners.app, name="partners")
    app.add_typer(mappings.app, name="mappings")
    app.add_typer(messages.app, name="messages")
    messages.app.command("replay-matching")(bulk.replay_matching)
    messages.app.command("import")(imports.import_documents)
    app.command("queues")(queues.queues)
    app.add_typer(db.app, name="db")
    app.add_typer(users.app, name="users")
    app.command("status")(status.status)


_register()


def main() -> None:
    """Console-script entry point: a crash prints one readable line (B2B_DEBUG=1 shows the traceback)."""
    try:
        app()
    except Exception as exc:  # the last line of defence: people never see a traceback
        if os.environ.get("B2B_DEBUG"):
            raise
        print_errors(
            [
                GatewayError(
                    f"internal error: {type(exc).__name__}: {exc}",
                    hint="this is a bug in b2b-gateway; run with B2B_DEBUG=1 for details and report it",
                )
            ]
        )
        sys.exit(70)
