"""Builders shared by the operations tests: settings, certificates, partners and sample messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from b2b_gateway.errors import BusinessRuleError, Location
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.profile import AckPolicy, Channel, PartnerIdentifier, PartnerProfile, SecurityPolicy
from b2b_gateway.pipeline.message import Direction, Message, State
from b2b_gateway.settings import Settings, load_settings

ADMIN_PASSWORD = "correct horse battery"
API_TOKEN = "t0ken-for-machines-0123456789"


def ops_settings(tmp: Path, **overrides: object) -> Settings:
    return load_settings(
        None,
        environment="test",
        company_id="EURODIS",
        paths={"data_dir": str(tmp / "var"), "certs_dir": str(tmp / "certs")},
        security={"admin_password": ADMIN_PASSWORD, "api_token": API_TOKEN, "session_secret": "s3cret-session-key"},
        **overrides,
    )


def write_certificate(
    directory: Path, name: str, cn: str, *, days: int, key_passphrase: bytes | None = None, with_key: bool = False
) -> None:
    """A self-signed certificate valid ``days`` from now (negative: expired) as the security store's entry
    ``name`` (``<name>.crt.pem``), with its key (``<name>.key.pem``) if asked."""
    path = directory / f"{name}.crt.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if not (with_key or key_passphrase):
        return
    encryption = (
        serialization.BestAvailableEncryption(key_passphrase) if key_passphrase else serialization.NoEncryption()
    )
    (directory / f"{name}.key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )


def partners() -> PartnerDirectory:
    return PartnerDirectory(
        [
            PartnerProfile(
                id="MOCKEDI",
                name="Mock EDI Supplier",
                identifiers=[PartnerIdentifier(value="MOCKEDI", kind="edifact", qualifier="14")],
                channels=[
                    Channel(kind="as2", url="http://127.0.0.1:9/as2", as2_id="MOCKEDI", headers={"Authorization": "x"})
                ],
                security=SecurityPolicy(certificates=["mockedi"]),
                acknowledgments=AckPolicy(expect_contrl=True, deadline_minutes=60),
            ),
            PartnerProfile(id="ACME", name="Acme Retail", channels=[Channel(kind="directory", path="/srv/acme")]),
        ]
    )


def sample_messages() -> list[Message]:
    now = dt.datetime.now(dt.UTC)
    out: list[Message] = []
    interchange = Message(raw=b"UNA:+.? 'UNB+UNOC:3+MOCKEDI:14+EURODIS:14'", partner_id="MOCKEDI", format="edifact")
    interchange.state, interchange.received_at = State.SPLIT, now - dt.timedelta(hours=2)
    interchange.record("receive", "ok", "40 bytes via as2")
    out.append(interchange)
    order = interchange.child(b"UNH+1+ORDRSP:D:96A:UN'", message_ref="1")
    order.document_type, order.business_key, order.state = "order_response", "PO-2024-0042", State.DELIVERED
    order.record("map", "ok", "mapped to canonical")
    order.record("deliver", "ok", "erp")
    out.append(order)
    bad = Message(raw=b'{"document_type": "invoice"}', partner_id="ACME", format="canonical-json")
    bad.document_type, bad.business_key, bad.state = "invoice", "INV-7781", State.REJECTED
    bad.errors.append(
        BusinessRuleError("total with VAT is wrong", code="BR-CO-15", location=Location(json_pointer="/totals"))
    )
    bad.record("check", "error", "1 error", code="BR-CO-15")
    out.append(bad)
    failed = Message(raw=b'{"document_type": "order"}', direction=Direction.OUTBOUND, partner_id="MOCKEDI")
    failed.document_type, failed.business_key, failed.state = "order", "PO-2024-0043", State.FAILED
    failed.record("deliver", "error", "endpoint answered 503")
    out.append(failed)
    return out
