"""S/MIME (RFC 8551) layers of an AS2 message: multipart/signed, pkcs7-mime enveloped and compressed.

Each ``wrap`` turns an entity into the entity that protects it; :func:`unwrap` peels one layer off an
inbound entity and says what it was.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal

from b2b_gateway.as2.mime import Entity, boundary, join_multipart, split_multipart
from b2b_gateway.as2.party import As2Party
from b2b_gateway.errors import KeyStoreError, MimeFormatError, SignatureInvalidError
from b2b_gateway.security.algorithms import normalize_digest
from b2b_gateway.security.compression import compress_cms, decompress_cms
from b2b_gateway.security.envelope import decrypt_cms, encrypt_cms
from b2b_gateway.security.signature import SignatureCheck, sign_cms, verify_cms

__all__ = ["Layer", "compress", "encrypt", "micalg_name", "sign", "unwrap"]

PKCS7_MIME = ("application/pkcs7-mime", "application/x-pkcs7-mime")
PKCS7_SIGNATURE = ("application/pkcs7-signature", "application/x-pkcs7-signature")


def micalg_name(digest_name: str) -> str:
    """``sha256`` → ``sha-256`` (the RFC 5751 ``micalg`` spelling)."""
    name = normalize_digest(digest_name)
    return name if name == "sha1" else f"sha-{name[3:]}"


def sign(entity: Entity, party: As2Party) -> Entity:
    """``multipart/signed`` over ``entity`` with our signing identity.

    Raises:
        KeyStoreError: we have no key to sign with.
    """
    if party.signing is None:
        raise KeyStoreError(f"no signing key for partner {party.partner_id}")
    content = entity.to_bytes()
    signature = sign_cms(content, party.signing, party.signature_algorithm)
    sig_part = Entity(
        [
            ("Content-Type", 'application/pkcs7-signature; name="smime.p7s"'),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", 'attachment; filename="smime.p7s"'),
        ],
        base64.encodebytes(signature).replace(b"\n", b"\r\n"),
    )
    mark = boundary()
    digest_name = party.signature_algorithm.rsplit("-", 1)[-1]
    content_type = (
        f'multipart/signed; protocol="application/pkcs7-signature"; micalg={micalg_name(digest_name)}; '
        f'boundary="{mark}"'
    )
    return Entity([("Content-Type", content_type)], join_multipart([content, sig_part.to_bytes()], mark))


def encrypt(entity: Entity, party: As2Party) -> Entity:
    """``application/pkcs7-mime`` enveloped (CBC) or authEnveloped (GCM) for the partner's certificate."""
    der = encrypt_cms(entity.to_bytes(), [party.encryption_certificate()], party.encryption_algorithm)
    smime_type = "authEnveloped-data" if party.encryption_algorithm.endswith("-gcm") else "enveloped-data"
    return Entity(
        [
            ("Content-Type", f'application/pkcs7-mime; smime-type={smime_type}; name="smime.p7m"'),
            ("Content-Transfer-Encoding", "binary"),
            ("Content-Disposition", 'attachment; filename="smime.p7m"'),
        ],
        der,
    )


def compress(entity: Entity) -> Entity:
    """``application/pkcs7-mime; smime-type=compressed-data`` (RFC 5402)."""
    return Entity(
        [
            ("Content-Type", 'application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"'),
            ("Content-Transfer-Encoding", "binary"),
            ("Content-Disposition", 'attachment; filename="smime.p7z"'),
        ],
        compress_cms(entity.to_bytes()),
    )


@dataclass(frozen=True, slots=True)
class Layer:
    """One protective layer taken off an inbound entity."""

    kind: Literal["signed", "encrypted", "compressed"]
    inner: Entity
    covered: bytes
    """The exact bytes the layer protected (the MIC of a signed message is computed over these)."""
    algorithm: str = ""
    signature: SignatureCheck | None = None


def _verify(entity: Entity, party: As2Party) -> Layer:
    mark = entity.params.get("boundary")
    if not mark:
        raise MimeFormatError("multipart/signed without a boundary")
    parts = split_multipart(entity.body, mark)
    if len(parts) != 2:
        raise MimeFormatError(f"multipart/signed with {len(parts)} parts instead of 2")
    signed_bytes, sig_bytes = parts
    sig_entity = Entity.parse(sig_bytes)
    if sig_entity.media_type not in PKCS7_SIGNATURE:
        raise SignatureInvalidError(f"the signature part is {sig_entity.media_type}, not application/pkcs7-signature")
    check = verify_cms(
        sig_entity.content(),
        signed_bytes,
        certificates=party.certificates,
        trusted_roots=party.trusted_roots,
        intermediates=party.intermediates,
    )
    return Layer("signed", Entity.parse(signed_bytes), signed_bytes, check.digest_algorithm, check)


def unwrap(entity: Entity, party: As2Party, *, max_bytes: int | None = None) -> Layer | None:
    """Take the outermost S/MIME layer off ``entity``; ``None`` when it is the payload itself.

    Raises:
        SecurityError: a signature, decryption or decompression failure (its own leaf).
        MimeFormatError: a broken structure.
    """
    media = entity.media_type
    if media == "multipart/signed":
        return _verify(entity, party)
    if media not in PKCS7_MIME:
        return None
    smime_type = entity.params.get("smime-type", "").lower()
    der = entity.content()
    if smime_type == "compressed-data":
        plain = decompress_cms(der, max_bytes=max_bytes)
        return Layer("compressed", Entity.parse(plain), plain, "zlib")
    if smime_type == "signed-data":
        check = verify_cms(
            der, certificates=party.certificates, trusted_roots=party.trusted_roots, intermediates=party.intermediates
        )
        return Layer("signed", Entity.parse(check.content), check.content, check.digest_algorithm, check)
    decrypted = decrypt_cms(der, party.decryption)
    return Layer("encrypted", Entity.parse(decrypted.content), decrypted.content, decrypted.algorithm)
