"""The XML fixtures (installed official schemas, the codec registry) serve the UBL-JSON tests too."""

from tests.xml.conftest import registry, schemas_dir, validators

__all__ = ["registry", "schemas_dir", "validators"]
