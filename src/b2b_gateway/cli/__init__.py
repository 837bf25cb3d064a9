"""The ``b2b-gateway`` command line (typer). Each command group lives in its own module."""

from b2b_gateway.cli.app import app, main

__all__ = ["app", "main"]
