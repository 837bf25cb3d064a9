"""TLS contexts for the gateway's channels: TLS 1.2 or newer only, mutual TLS where configured.

* :func:`server_context`: the HTTP server (API, AS2); with ``client_ca`` it requires client certificates.
* :func:`client_context`: outbound HTTPS/AS2 with an optional client certificate.
* :func:`http_server_context`, :func:`amqp_context`, :func:`channel_context`: the same from settings
  and partner channels. Private keys are read encrypted; the passphrase comes from the settings.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from b2b_gateway.errors import KeyStoreError, Location
from b2b_gateway.partners.profile import Channel
from b2b_gateway.security.files import CERT_SUFFIX, KEY_SUFFIX
from b2b_gateway.settings import AmqpSettings, HttpSettings, SecuritySettings

__all__ = ["amqp_context", "channel_context", "client_context", "http_server_context", "server_context"]

MINIMUM = ssl.TLSVersion.TLSv1_2


def _load_chain(ctx: ssl.SSLContext, cert: Path, key: Path | None, passphrase: bytes | None) -> None:
    try:
        ctx.load_cert_chain(str(cert), str(key) if key else None, password=passphrase or None)
    except (OSError, ssl.SSLError) as exc:
        raise KeyStoreError(
            f"cannot load the TLS certificate and key: {exc}",
            location=Location(file=str(cert)),
            hint="check the files and the key passphrase (B2B_SECURITY__KEY_PASSPHRASE[_FILE])",
        ) from None


def _load_ca(ctx: ssl.SSLContext, ca: Path) -> None:
    try:
        ctx.load_verify_locations(cafile=str(ca))
    except (OSError, ssl.SSLError) as exc:
        raise KeyStoreError(f"cannot load the CA file: {exc}", location=Location(file=str(ca))) from None


def server_context(
    cert: Path, key: Path, *, client_ca: Path | None = None, passphrase: bytes | None = None
) -> ssl.SSLContext:
    """A server context (TLS 1.2+); with ``client_ca`` a client certificate signed by it is required.

    Raises:
        KeyStoreError: a file cannot be read, or the passphrase is wrong.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = MINIMUM
    _load_chain(ctx, cert, key, passphrase)
    if client_ca is not None:
        _load_ca(ctx, client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def client_context(
    *,
    ca: Path | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    passphrase: bytes | None = None,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """A client context (TLS 1.2+) verifying the server against ``ca`` (else the system roots),
    presenting ``cert``/``key`` for mutual TLS when given.

    Raises:
        KeyStoreError: a file cannot be read, or the passphrase is wrong.
    """
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ctx.minimum_version = MINIMUM
    ctx.check_hostname = check_hostname
    if ca is not None:
        _load_ca(ctx, ca)
    if cert is not None:
        _load_chain(ctx, cert, key, passphrase)
    return ctx


def http_server_context(http: HttpSettings, security: SecuritySettings) -> ssl.SSLContext | None:
    """The HTTP server's context from ``[http] tls_cert/tls_key/tls_client_ca``, or ``None`` for plain HTTP."""
    if http.tls_cert is None:
        return None
    if http.tls_key is None:
        raise KeyStoreError("http.tls_cert is set but http.tls_key is not")
    return server_context(http.tls_cert, http.tls_key, client_ca=http.tls_client_ca, passphrase=security.passphrase())


def amqp_context(amqp: AmqpSettings, security: SecuritySettings) -> ssl.SSLContext | None:
    """The AMQPS context from ``[amqp] tls_ca/tls_cert/tls_key`` (client certificate optional).

    ``None`` when the URL is plain ``amqp://`` and no TLS file is configured.
    """
    url = amqp.url.get_secret_value() if amqp.url is not None else ""
    if not url.startswith("amqps://") and amqp.tls_ca is None and amqp.tls_cert is None:
        return None
    return client_context(ca=amqp.tls_ca, cert=amqp.tls_cert, key=amqp.tls_key, passphrase=security.passphrase())


def channel_context(channel: Channel, certs_dir: Path, security: SecuritySettings) -> ssl.SSLContext | None:
    """The outbound context for a partner channel: its ``ca_cert`` and ``client_cert`` names in ``certs/``.

    ``None`` for a plain ``http://`` URL with neither configured (the caller uses its defaults).
    """
    if channel.ca_cert is None and channel.client_cert is None:
        return None if not (channel.url or "").startswith("https://") else client_context()
    ca = certs_dir / f"{channel.ca_cert}{CERT_SUFFIX}" if channel.ca_cert else None
    cert = certs_dir / f"{channel.client_cert}{CERT_SUFFIX}" if channel.client_cert else None
    key = certs_dir / f"{channel.client_cert}{KEY_SUFFIX}" if channel.client_cert else None
    return client_context(ca=ca, cert=cert, key=key, passphrase=security.passphrase())
