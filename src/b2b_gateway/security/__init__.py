"""Keys, certificates, signatures, encryption and TLS (pure: values in, values out).

* :mod:`~.keys`: read PEM/DER/PKCS#12/PKCS#7, generate keys and certificates, encrypt keys at rest.
* :mod:`~.store`: the named key and certificate store (rollover: several valid entries at once).
* :mod:`~.files`: the only code reading and writing ``certs/``.
* :mod:`~.chain`, :mod:`~.check`: validity, chains to trusted roots, store health and expiry.
* :mod:`~.signature`: detached CMS SignedData (sign with cryptography, verify with asn1crypto).
* :mod:`~.envelope`, :mod:`~.compression`: CMS EnvelopedData/AuthEnvelopedData, CompressedData.
* :mod:`~.jws`: detached JWS for JSON endpoints.
* :mod:`~.tls`: ``ssl.SSLContext`` builders (TLS 1.2+, mutual TLS).
"""

from b2b_gateway.security.check import CertFinding, check_store, expiry_timestamps
from b2b_gateway.security.compression import compress_cms, decompress_cms
from b2b_gateway.security.envelope import Decrypted, decrypt_cms, encrypt_cms
from b2b_gateway.security.files import load_store, save_entry
from b2b_gateway.security.jws import sign_jws, verify_jws
from b2b_gateway.security.signature import SignatureCheck, sign_cms, verify_cms
from b2b_gateway.security.store import CertEntry, CertStore

__all__ = [
    "CertEntry",
    "CertFinding",
    "CertStore",
    "Decrypted",
    "SignatureCheck",
    "check_store",
    "compress_cms",
    "decompress_cms",
    "decrypt_cms",
    "encrypt_cms",
    "expiry_timestamps",
    "load_store",
    "save_entry",
    "sign_cms",
    "sign_jws",
    "verify_cms",
    "verify_jws",
]
