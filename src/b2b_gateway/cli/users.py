"""``users add|list|passwd``: the dashboard's users (the users file; ``admin`` comes from the settings)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from b2b_gateway.api.server import authenticator_from
from b2b_gateway.api.users import Role, UserStore
from b2b_gateway.cli.app import settings_of
from b2b_gateway.cli.output import print_errors, print_json
from b2b_gateway.errors import GatewayError

__all__ = ["app"]

app = typer.Typer(help="Dashboard and API users and their roles (viewer, operator, admin).", no_args_is_help=True)

PasswordOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input instead of prompting")
]


def _store(ctx: typer.Context) -> UserStore:
    try:
        return authenticator_from(settings_of(ctx)).users
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(2) from None


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name")],
    role: Annotated[Role, typer.Option("--role", "-r", help="viewer, operator or admin")] = Role.VIEWER,
    password_stdin: PasswordOpt = False,
) -> None:
    """Create a user with a role; the password is hashed with scrypt."""
    store = _store(ctx)
    try:
        user = store.add(name, role, _password(password_stdin))
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(1) from None
    typer.echo(f"added {user.name} ({user.role.value}) to {store.path}", err=True)


@app.command("passwd")
def passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name")],
    password_stdin: PasswordOpt = False,
) -> None:
    """Change a user's password."""
    store = _store(ctx)
    try:
        store.set_password(name, _password(password_stdin))
    except GatewayError as exc:
        print_errors([exc])
        raise typer.Exit(1) from None
    typer.echo(f"password of {name} changed", err=True)


@app.command("list")
def list_users(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
) -> None:
    """The users and their roles (never their password hashes)."""
    users = _store(ctx).list()
    if as_json:
        print_json([u.public() for u in users])
        return
    table = Table("user", "role", "created", "source", title="users")
    for u in users:
        table.add_row(u.name, u.role.value, u.created_at or "-", "settings" if u.builtin else "users file")
    Console().print(table)
