"""Partner identification and security errors: signatures, encryption, certificates, authentication."""

from __future__ import annotations

from b2b_gateway.errors.base import Ack, GatewayError

__all__ = [
    "AuthenticationError",
    "CertificateExpiredError",
    "CertificateNotYetValidError",
    "CertificateUntrustedError",
    "ContentTamperedError",
    "DecompressionError",
    "DecryptionError",
    "EncryptionRequiredError",
    "PartnerError",
    "PermissionDeniedError",
    "SecurityError",
    "SignatureInvalidError",
    "SignatureRequiredError",
    "UnknownPartnerError",
    "UnknownRecipientError",
    "UnsupportedAlgorithmError",
]


# --- partners -------------------------------------------------------------------------------------


class PartnerError(GatewayError):
    """The sender or recipient cannot be established."""

    code = "PARTNER"
    ack = Ack(contrl="23", mdn="error: unknown-trading-partner", http=403)


class UnknownPartnerError(PartnerError):
    """No partner profile matches the sender's identifiers."""

    code = "UNKNOWN_PARTNER"


class UnknownRecipientError(PartnerError):
    """The interchange is addressed to someone other than this gateway's company."""

    code = "UNKNOWN_RECIPIENT"
    ack = Ack(contrl="7", mdn="error: unknown-trading-partner", http=403)


# --- security -------------------------------------------------------------------------------------


class SecurityError(GatewayError):
    """A signature, certificate, encryption or authentication check failed: the document is quarantined."""

    code = "SECURITY"
    ack = Ack(contrl="27", mdn="error: authentication-failed", http=403)


class SignatureRequiredError(SecurityError):
    """The partner's policy requires a signature and the document has none."""

    code = "SIGNATURE_REQUIRED"
    ack = Ack(contrl="27", mdn="error: insufficient-message-security", http=403)


class EncryptionRequiredError(SecurityError):
    """The partner's policy requires encryption and the document came in clear."""

    code = "ENCRYPTION_REQUIRED"
    ack = Ack(contrl="27", mdn="error: insufficient-message-security", http=403)


class SignatureInvalidError(SecurityError):
    """The signature value does not verify with the signer's key."""

    code = "SIGNATURE_INVALID"


class ContentTamperedError(SecurityError):
    """The content does not match the signed digest (MIC)."""

    code = "CONTENT_TAMPERED"
    ack = Ack(contrl="27", mdn="error: integrity-check-failed", http=403)


class CertificateUntrustedError(SecurityError):
    """The signer's certificate is unknown, or its chain does not end at a trusted root."""

    code = "CERT_UNTRUSTED"


class CertificateExpiredError(SecurityError):
    """The signer's certificate has expired."""

    code = "CERT_EXPIRED"


class CertificateNotYetValidError(SecurityError):
    """The signer's certificate is not valid yet."""

    code = "CERT_NOT_YET_VALID"


class DecryptionError(SecurityError):
    """The content cannot be decrypted with any of the gateway's keys."""

    code = "DECRYPTION_FAILED"
    ack = Ack(contrl="27", mdn="error: decryption-failed", http=400)


class DecompressionError(SecurityError):
    """Compressed content (RFC 5402) cannot be decompressed."""

    code = "DECOMPRESSION_FAILED"
    ack = Ack(contrl="27", mdn="error: decompression-failed", http=400)


class UnsupportedAlgorithmError(SecurityError):
    """An algorithm the policy does not allow (or the gateway does not implement)."""

    code = "UNSUPPORTED_ALGORITHM"
    ack = Ack(contrl="27", mdn="error: insufficient-message-security", http=400)


class AuthenticationError(SecurityError):
    """An API, dashboard or HTTP endpoint caller is not authenticated or not allowed."""

    code = "UNAUTHENTICATED"
    ack = Ack(contrl=None, mdn="error: authentication-failed", http=401)


class PermissionDeniedError(SecurityError):
    """The caller is authenticated but their role does not allow this (or the CSRF token is missing)."""

    code = "FORBIDDEN"
    ack = Ack(contrl=None, mdn="error: authentication-failed", http=403)
