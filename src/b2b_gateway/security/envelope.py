"""CMS encryption: EnvelopedData (AES-CBC) and AuthEnvelopedData (AES-GCM, RFC 5083/5084).

Outbound the gateway encrypts with AES-128/192/256-CBC or AES-128/256-GCM for RSA recipients (key
transport, RSA PKCS#1 v1.5 by default or RSA-OAEP). Inbound it also accepts 3DES-CBC (older AS2
software) and RSA-OAEP key transport. Built and parsed with asn1crypto, ciphers from cryptography.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from asn1crypto import algos, cms, core
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from b2b_gateway.errors import DecryptionError, UnsupportedAlgorithmError
from b2b_gateway.security.algorithms import hash_for
from b2b_gateway.security.store import CertEntry

__all__ = ["INBOUND_ALGORITHMS", "OUTBOUND_ALGORITHMS", "Decrypted", "decrypt_cms", "encrypt_cms"]

OUTBOUND_ALGORITHMS = frozenset({"aes128-cbc", "aes192-cbc", "aes256-cbc", "aes128-gcm", "aes256-gcm"})
INBOUND_ALGORITHMS = OUTBOUND_ALGORITHMS | {"aes192-gcm", "3des-cbc"}

# gateway name <-> asn1crypto name
_ASN1 = {
    "aes128-cbc": "aes128_cbc",
    "aes192-cbc": "aes192_cbc",
    "aes256-cbc": "aes256_cbc",
    "aes128-gcm": "aes128_gcm",
    "aes192-gcm": "aes192_gcm",
    "aes256-gcm": "aes256_gcm",
    "3des-cbc": "tripledes_3key",
}
_NAME = {v: k for k, v in _ASN1.items()}
_KEY_BYTES = {"aes128": 16, "aes192": 24, "aes256": 32, "3des": 24}


class GcmParameters(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 5084 GCMParameters: the nonce and the tag length."""

    _fields = [("aes_nonce", core.OctetString), ("aes_icvlen", core.Integer, {"default": 12})]


@dataclass(frozen=True, slots=True)
class Decrypted:
    """Decrypted content and how it was protected."""

    content: bytes
    algorithm: str
    recipient: str


def _wrap_key(cert: x509.Certificate, key: bytes, transport: str) -> cms.RecipientInfo:
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise UnsupportedAlgorithmError("encryption needs the partner's RSA certificate (EC key agreement is not done)")
    if transport == "rsaes_oaep":
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        encrypted = public.encrypt(key, oaep)
    else:
        encrypted = public.encrypt(key, padding.PKCS1v15())
    rid = cms.RecipientIdentifier(
        name="issuer_and_serial_number",
        value=cms.IssuerAndSerialNumber(
            {"issuer": cms.Name.load(cert.issuer.public_bytes()), "serial_number": cert.serial_number}
        ),
    )
    return cms.RecipientInfo(
        name="ktri",
        value={
            "version": "v0",
            "rid": rid,
            "key_encryption_algorithm": {"algorithm": transport},
            "encrypted_key": encrypted,
        },
    )


def encrypt_cms(
    data: bytes,
    recipients: Sequence[x509.Certificate],
    algorithm: str = "aes256-cbc",
    *,
    key_transport: Literal["rsaes_pkcs1v15", "rsaes_oaep"] = "rsaes_pkcs1v15",
) -> bytes:
    """Encrypt ``data`` for ``recipients``: DER EnvelopedData (CBC) or AuthEnvelopedData (GCM).

    Raises:
        UnsupportedAlgorithmError: not an outbound algorithm (3DES is accepted inbound only), no
            recipient, or a recipient certificate without an RSA key.
    """
    if algorithm not in OUTBOUND_ALGORITHMS:
        raise UnsupportedAlgorithmError(
            f"encryption algorithm {algorithm!r} is not used outbound "
            f"(use one of {', '.join(sorted(OUTBOUND_ALGORITHMS))})"
        )
    if not recipients:
        raise UnsupportedAlgorithmError("no recipient certificate to encrypt for")
    key = os.urandom(_KEY_BYTES[algorithm.split("-")[0]])
    infos = [_wrap_key(c, key, key_transport) for c in recipients]
    if algorithm.endswith("-gcm"):
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, data, None)
        params = GcmParameters({"aes_nonce": nonce, "aes_icvlen": 16})
        content = cms.AuthEnvelopedData(
            {
                "version": "v0",
                "recipient_infos": infos,
                "auth_encrypted_content_info": {
                    "content_type": "data",
                    "content_encryption_algorithm": {
                        "algorithm": _ASN1[algorithm],
                        "parameters": core.Any.load(params.dump()),
                    },
                    "encrypted_content": sealed[:-16],
                },
                "mac": sealed[-16:],
            }
        )
        return bytes(cms.ContentInfo({"content_type": "authenticated_enveloped_data", "content": content}).dump())
    iv = os.urandom(16)
    padder = sym_padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()
    enveloped = cms.EnvelopedData(
        {
            "version": "v0",
            "recipient_infos": infos,
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": {"algorithm": _ASN1[algorithm], "parameters": iv},
                "encrypted_content": ciphertext,
            },
        }
    )
    return bytes(cms.ContentInfo({"content_type": "enveloped_data", "content": enveloped}).dump())


def _unwrap_key(info: cms.KeyTransRecipientInfo, identity: CertEntry) -> bytes | None:
    key = identity.key
    if not isinstance(key, rsa.RSAPrivateKey):
        return None
    algorithm = info["key_encryption_algorithm"]
    try:
        if algorithm["algorithm"].native == "rsaes_oaep":
            params = algorithm["parameters"]
            hash_name = params["hash_algorithm"]["algorithm"].native
            mgf_name = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
            pad: padding.AsymmetricPadding = padding.OAEP(
                mgf=padding.MGF1(hash_for(mgf_name)), algorithm=hash_for(hash_name), label=None
            )
        else:
            pad = padding.PKCS1v15()
        return bytes(key.decrypt(info["encrypted_key"].native, pad))
    except ValueError:
        return None


def _matches(rid: cms.RecipientIdentifier, cert: x509.Certificate) -> bool:
    if rid.name == "issuer_and_serial_number":
        return bool(
            rid.chosen["serial_number"].native == cert.serial_number
            and rid.chosen["issuer"].dump() == cert.issuer.public_bytes()
        )
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return False
    return bool(ski == rid.chosen.native)


def _content_key(recipient_infos: cms.RecipientInfos, identities: Sequence[CertEntry]) -> tuple[bytes, str]:
    for info in recipient_infos:
        if info.name != "ktri":
            continue
        for identity in identities:
            if identity.key is not None and _matches(info.chosen["rid"], identity.certificate):
                key = _unwrap_key(info.chosen, identity)
                if key is not None:
                    return key, identity.name
                raise DecryptionError(f"the content key for our certificate {identity.name!r} cannot be unwrapped")
    raise DecryptionError(
        "the message is not encrypted for any of our certificates",
        hint="the partner may be using an old certificate of ours; send it the current one",
    )


def _decrypt_cbc(name: str, key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    cipher = algorithms.AES(key) if name.startswith("aes") else TripleDES(key)
    decryptor = Cipher(cipher, modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = sym_padding.PKCS7(cipher.block_size).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise DecryptionError("decryption failed: bad padding (wrong key or corrupted content)") from None


def _algorithm(content_alg: algos.EncryptionAlgorithm, allowed: frozenset[str]) -> str:
    name = _NAME.get(content_alg["algorithm"].native, str(content_alg["algorithm"].native))
    if name not in allowed:
        raise UnsupportedAlgorithmError(f"content encryption algorithm {name!r} is not accepted")
    return name


def decrypt_cms(
    data: bytes, identities: Sequence[CertEntry], *, allowed: frozenset[str] = INBOUND_ALGORITHMS
) -> Decrypted:
    """Decrypt a DER EnvelopedData or AuthEnvelopedData with whichever of our keys it was made for.

    Raises:
        DecryptionError: not for any of our keys, a wrong key, corrupted content or a failed GCM tag.
        UnsupportedAlgorithmError: a content algorithm outside ``allowed``.
    """
    try:
        info = cms.ContentInfo.load(data)
        kind = info["content_type"].native
        body = info["content"]
        body.native  # noqa: B018  # parse all now
    except (ValueError, TypeError, KeyError) as exc:
        raise DecryptionError(f"not a CMS enveloped-data structure: {exc}") from None
    if kind == "enveloped_data":
        eci = body["encrypted_content_info"]
        name = _algorithm(eci["content_encryption_algorithm"], allowed)
        key, who = _content_key(body["recipient_infos"], identities)
        iv = eci["content_encryption_algorithm"]["parameters"].native
        if not isinstance(iv, bytes):
            raise DecryptionError("the CBC parameters carry no IV")
        return Decrypted(_decrypt_cbc(name, key, iv, eci["encrypted_content"].native or b""), name, who)
    if kind == "authenticated_enveloped_data":
        eci = body["auth_encrypted_content_info"]
        name = _algorithm(eci["content_encryption_algorithm"], allowed)
        key, who = _content_key(body["recipient_infos"], identities)
        params = GcmParameters.load(eci["content_encryption_algorithm"]["parameters"].dump())
        nonce, icv = params["aes_nonce"].native, params["aes_icvlen"].native
        aad = b"\x31" + body["auth_attrs"].dump()[1:] if body["auth_attrs"].native else b""
        tag = body["mac"].native
        if len(tag) != icv:
            raise DecryptionError("the GCM tag length does not match its parameters")
        try:
            plain = AESGCM(key).decrypt(nonce, (eci["encrypted_content"].native or b"") + tag, aad or None)
        except InvalidTag:
            raise DecryptionError("decryption failed: the GCM authentication tag does not verify") from None
        return Decrypted(plain, name, who)
    raise DecryptionError(f"expected CMS enveloped-data, found {kind}")
