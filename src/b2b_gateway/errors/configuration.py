"""Configuration errors: the gateway's own settings, partner files, keys, schemas and topology."""

from __future__ import annotations

from b2b_gateway.errors.base import Ack, GatewayError

__all__ = [
    "BrokerTopologyError",
    "ConfigurationError",
    "KeyStoreError",
    "MappingConfigError",
    "OfficialSchemaError",
    "PartnerConfigError",
    "RoutingConfigError",
    "SettingsError",
    "StoreSchemaError",
]


# --- configuration -------------------------------------------------------------------------------


class ConfigurationError(GatewayError):
    """The gateway's own configuration is wrong. Fix the files; the partner is not at fault."""

    code = "CONFIG"
    ack = Ack(contrl=None, mdn="error: unexpected-processing-error", http=500)


class SettingsError(ConfigurationError):
    """A setting (environment variable or TOML file) is invalid."""

    code = "CONFIG_SETTINGS"


class PartnerConfigError(ConfigurationError):
    """A partner profile is invalid."""

    code = "CONFIG_PARTNER"


class MappingConfigError(ConfigurationError):
    """A mapping file is invalid (unknown path, bad qualifier, bad transform)."""

    code = "CONFIG_MAPPING"


class KeyStoreError(ConfigurationError):
    """A key or certificate cannot be loaded (missing file, wrong passphrase, broken PEM)."""

    code = "CONFIG_KEYSTORE"


class OfficialSchemaError(ConfigurationError):
    """The official schemas or rules (UBL 2.1 XSD, CII D16B XSD, EN 16931 XSLT) are missing, incomplete or
    fail their checksum; as a warning, it says which validation is off."""

    code = "CONFIG_OFFICIAL_SCHEMAS"


class RoutingConfigError(ConfigurationError):
    """The routing file (``routes.yaml``) is invalid: the gateway keeps the rules it had."""

    code = "CONFIG_ROUTING"


class StoreSchemaError(ConfigurationError):
    """The store's schema cannot be brought to this gateway's revision (a failed or unknown migration)."""

    code = "CONFIG_STORE_SCHEMA"


class BrokerTopologyError(ConfigurationError):
    """An exchange or queue on the broker exists with other arguments than the gateway declares."""

    code = "CONFIG_BROKER_TOPOLOGY"
