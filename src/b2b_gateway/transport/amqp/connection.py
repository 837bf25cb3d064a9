"""Connecting to RabbitMQ: robust (reconnecting) connections, AMQPS with an optional client certificate."""

from __future__ import annotations

import os
import ssl
from urllib.parse import urlsplit, urlunsplit

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from b2b_gateway.errors import BrokerUnavailableError, SettingsError
from b2b_gateway.settings import AmqpSettings

__all__ = ["connect", "display_url", "tls_context"]


def display_url(url: str) -> str:
    """The URL without its password (for logs and errors)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def tls_context(settings: AmqpSettings) -> ssl.SSLContext | None:
    """A TLS 1.2+ context when the URL is ``amqps://`` or a CA/client certificate is configured."""
    url = settings.url.get_secret_value() if settings.url else ""
    if not (url.startswith("amqps://") or settings.tls_ca or settings.tls_cert):
        return None
    try:
        ctx = ssl.create_default_context(cafile=str(settings.tls_ca) if settings.tls_ca else None)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if settings.tls_cert:
            ctx.load_cert_chain(str(settings.tls_cert), str(settings.tls_key) if settings.tls_key else None)
    except (OSError, ssl.SSLError) as exc:
        raise SettingsError(
            f"cannot set up AMQPS: {exc}", hint="check amqp.tls_ca, amqp.tls_cert, amqp.tls_key"
        ) from None
    return ctx


async def connect(settings: AmqpSettings, *, name: str = "b2b-gateway") -> AbstractRobustConnection:
    """A robust connection: it reconnects by itself and restores channels, QoS, declarations and consumers.

    Raises:
        BrokerUnavailableError: the broker cannot be reached now (the caller retries).
    """
    assert settings.url is not None
    url = settings.url.get_secret_value()
    context = tls_context(settings)
    try:
        connection = await aio_pika.connect_robust(
            url,
            ssl_context=context,
            timeout=15,
            client_properties={"connection_name": f"{name} pid {os.getpid()}"},
        )
    except (OSError, ConnectionError, TimeoutError, aio_pika.exceptions.AMQPError) as exc:
        raise BrokerUnavailableError(f"cannot connect to {display_url(url)}: {exc}") from None
    return connection
