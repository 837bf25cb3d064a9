"""structlog, configured once per process.

JSON lines in production (or whenever output is not a terminal), a readable console in a terminal.
Per-message context (``message_id``, ``correlation_id``, ``partner``, ``stage``) is bound with
:func:`message_context` and rides along on every event logged inside it. A redaction processor
masks secret-looking keys and the literal values of every secret the process knows.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from contextlib import AbstractContextManager
from contextvars import ContextVar, Token
from typing import Any, TextIO

import structlog

from b2b_gateway.settings import LoggingSettings

__all__ = ["configure_logging", "get_logger", "message_context", "redactor"]

_MESSAGE: ContextVar[Mapping[str, str] | None] = ContextVar("b2b_message_context", default=None)
"""The fields :func:`message_context` bound: one context variable set per block (a stage of every
message enters one), read only when an event is logged."""

_SECRET_KEY = re.compile(r"pass(word|phrase)?|secret|token|authorization|private_key|api_key|cookie", re.I)
REDACTED = "***"


def redactor(secrets: Iterable[str]) -> structlog.types.Processor:
    """A processor that hides secret-named keys and any known secret value inside logged strings."""
    values = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def _scrub(value: Any) -> Any:
        if isinstance(value, str):
            for secret in values:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: (REDACTED if _SECRET_KEY.search(str(k)) else _scrub(v)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [_scrub(v) for v in value]
        return value

    def process(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            if _SECRET_KEY.search(key):
                event_dict[key] = REDACTED
            else:
                event_dict[key] = _scrub(event_dict[key])
        return event_dict

    return process


def configure_logging(settings: LoggingSettings, *, secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """Configure structlog (and the standard logging it feeds) for this process."""
    out = stream or sys.stderr
    fmt = settings.format
    if fmt == "auto":
        fmt = "console" if out.isatty() else "json"
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer(colors=out.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer(sort_keys=False)
    )
    level = getattr(logging, settings.level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _merge_message_context,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redactor(secrets),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=max(level, logging.WARNING), stream=out, force=True)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; ``name`` becomes the ``logger`` field."""
    return structlog.get_logger(name) if name else structlog.get_logger()


class _Bound:
    """A :func:`message_context` block (a class, not a generator: it is entered for every stage of every
    message, and costs half as much)."""

    __slots__ = ("fields", "token")

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        self.token: Token[Mapping[str, str] | None] | None = None

    def __enter__(self) -> None:
        outer = _MESSAGE.get()
        self.token = _MESSAGE.set({**outer, **self.fields} if outer else self.fields)

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _MESSAGE.reset(self.token)
            self.token = None


def message_context(**fields: str | None) -> AbstractContextManager[None]:
    """Bind per-message fields (``message_id``, ``correlation_id``, ``partner``, ``stage``) for a block.

    Blocks nest: an inner block's fields are added to (or replace) the outer block's, until it ends.
    """
    return _Bound({k: v for k, v in fields.items() if v is not None})


def _merge_message_context(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Add the fields of the enclosing :func:`message_context` (an event's own keys win)."""
    for key, value in (_MESSAGE.get() or {}).items():
        event_dict.setdefault(key, value)
    return event_dict
