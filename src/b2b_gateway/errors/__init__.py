"""The gateway's one exception tree.

Every failure the gateway can meet is a :class:`GatewayError`. Each class carries a stable ``code``,
whether it is ``retryable`` (a transient condition: try again later, keep the message) and the
acknowledgment it turns into (:class:`Ack`: UN/EDIFACT 0085 syntax error code for CONTRL, the AS2 MDN
disposition modifier, the HTTP status). Each instance carries a human ``message``, a :class:`Location`
pointing into the input, a ``severity`` and an optional ``hint`` saying what to do.

Validators *collect* errors (they report all of them, not only the first); a stage that cannot go on
raises :class:`DocumentRejected` holding the collected list.

The tree (a test keeps this drawing equal to the classes below)::

    GatewayError
    ├── ConfigurationError
    │   ├── SettingsError
    │   ├── PartnerConfigError
    │   ├── MappingConfigError
    │   ├── KeyStoreError
    │   ├── OfficialSchemaError
    │   ├── RoutingConfigError
    │   ├── StoreSchemaError
    │   └── BrokerTopologyError
    ├── DocumentError
    │   ├── DocumentRejected
    │   ├── InputTooLargeError
    │   ├── UnknownFormatError
    │   ├── CharacterSetError
    │   ├── SyntaxError_
    │   │   ├── EdifactSyntaxError
    │   │   ├── XmlSyntaxError
    │   │   ├── ForbiddenXmlConstructError
    │   │   └── JsonSyntaxError
    │   ├── EnvelopeError
    │   │   ├── ControlReferenceError
    │   │   ├── ControlCountError
    │   │   └── UnsupportedSyntaxError
    │   ├── StructureError
    │   │   ├── MissingError
    │   │   ├── UnexpectedError
    │   │   ├── TooManyRepeatsError
    │   │   ├── SchemaError
    │   │   └── RepresentationError
    │   │       ├── ValueTooLongError
    │   │       └── ValueTooShortError
    │   ├── CodeListError
    │   ├── FieldError
    │   ├── BusinessRuleError
    │   ├── MappingError
    │   ├── UnknownDocumentTypeError
    │   ├── DuplicateDocumentError
    │   ├── UnmatchedAcknowledgmentError
    │   ├── PartnerRejectedError
    │   ├── MimeFormatError
    │   └── UnsafeArchiveError
    ├── PartnerError
    │   ├── UnknownPartnerError
    │   └── UnknownRecipientError
    ├── SecurityError
    │   ├── SignatureRequiredError
    │   ├── EncryptionRequiredError
    │   ├── SignatureInvalidError
    │   ├── ContentTamperedError
    │   ├── CertificateUntrustedError
    │   ├── CertificateExpiredError
    │   ├── CertificateNotYetValidError
    │   ├── DecryptionError
    │   ├── DecompressionError
    │   ├── UnsupportedAlgorithmError
    │   ├── AuthenticationError
    │   └── PermissionDeniedError
    ├── RoutingError
    │   └── UnroutableError
    ├── DeliveryRefusedError
    ├── AcknowledgmentOverdueError
    ├── NotFoundError
    ├── OperationError
    │   └── ActionNotAllowedError
    └── TransientError
        ├── StoreUnavailableError
        ├── BrokerUnavailableError
        └── DeliveryError
            └── EndpointUnavailableError

``SyntaxError_`` carries a trailing underscore so that it never shadows the builtin ``SyntaxError``.
"""

from __future__ import annotations

from b2b_gateway.errors.base import Ack, GatewayError, Location, Severity, error_from_dict
from b2b_gateway.errors.configuration import (
    BrokerTopologyError,
    ConfigurationError,
    KeyStoreError,
    MappingConfigError,
    OfficialSchemaError,
    PartnerConfigError,
    RoutingConfigError,
    SettingsError,
    StoreSchemaError,
)
from b2b_gateway.errors.document import (
    BusinessRuleError,
    CharacterSetError,
    CodeListError,
    ControlCountError,
    ControlReferenceError,
    DocumentError,
    DocumentRejected,
    DuplicateDocumentError,
    EdifactSyntaxError,
    EnvelopeError,
    FieldError,
    ForbiddenXmlConstructError,
    InputTooLargeError,
    JsonSyntaxError,
    MappingError,
    MimeFormatError,
    MissingError,
    PartnerRejectedError,
    RepresentationError,
    SchemaError,
    StructureError,
    SyntaxError_,
    TooManyRepeatsError,
    UnexpectedError,
    UnknownDocumentTypeError,
    UnknownFormatError,
    UnmatchedAcknowledgmentError,
    UnsafeArchiveError,
    UnsupportedSyntaxError,
    ValueTooLongError,
    ValueTooShortError,
    XmlSyntaxError,
)
from b2b_gateway.errors.operations import (
    AcknowledgmentOverdueError,
    ActionNotAllowedError,
    BrokerUnavailableError,
    DeliveryError,
    DeliveryRefusedError,
    EndpointUnavailableError,
    NotFoundError,
    OperationError,
    RoutingError,
    StoreUnavailableError,
    TransientError,
    UnroutableError,
)
from b2b_gateway.errors.security import (
    AuthenticationError,
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateUntrustedError,
    ContentTamperedError,
    DecompressionError,
    DecryptionError,
    EncryptionRequiredError,
    PartnerError,
    PermissionDeniedError,
    SecurityError,
    SignatureInvalidError,
    SignatureRequiredError,
    UnknownPartnerError,
    UnknownRecipientError,
    UnsupportedAlgorithmError,
)

__all__ = [
    "Ack",
    "AcknowledgmentOverdueError",
    "ActionNotAllowedError",
    "AuthenticationError",
    "BrokerTopologyError",
    "BrokerUnavailableError",
    "BusinessRuleError",
    "CertificateExpiredError",
    "CertificateNotYetValidError",
    "CertificateUntrustedError",
    "CharacterSetError",
    "CodeListError",
    "ConfigurationError",
    "ContentTamperedError",
    "ControlCountError",
    "ControlReferenceError",
    "DecompressionError",
    "DecryptionError",
    "DeliveryError",
    "DeliveryRefusedError",
    "DocumentError",
    "DocumentRejected",
    "DuplicateDocumentError",
    "EdifactSyntaxError",
    "EncryptionRequiredError",
    "EndpointUnavailableError",
    "EnvelopeError",
    "FieldError",
    "ForbiddenXmlConstructError",
    "GatewayError",
    "InputTooLargeError",
    "JsonSyntaxError",
    "KeyStoreError",
    "Location",
    "MappingConfigError",
    "MappingError",
    "MimeFormatError",
    "MissingError",
    "NotFoundError",
    "OfficialSchemaError",
    "OperationError",
    "PartnerConfigError",
    "PartnerError",
    "PartnerRejectedError",
    "PermissionDeniedError",
    "RepresentationError",
    "RoutingConfigError",
    "RoutingError",
    "SchemaError",
    "SecurityError",
    "SettingsError",
    "Severity",
    "SignatureInvalidError",
    "SignatureRequiredError",
    "StoreSchemaError",
    "StoreUnavailableError",
    "StructureError",
    "SyntaxError_",
    "TooManyRepeatsError",
    "TransientError",
    "UnexpectedError",
    "UnknownDocumentTypeError",
    "UnknownFormatError",
    "UnknownPartnerError",
    "UnknownRecipientError",
    "UnmatchedAcknowledgmentError",
    "UnroutableError",
    "UnsafeArchiveError",
    "UnsupportedAlgorithmError",
    "UnsupportedSyntaxError",
    "ValueTooLongError",
    "ValueTooShortError",
    "XmlSyntaxError",
    "error_from_dict",
]
