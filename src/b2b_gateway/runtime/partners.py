"""Loading partner profiles for a running gateway: ``mappings/<partner>/partner.yaml``.

A small loader so the gateway runs with the profiles it finds (retry policies, channels, duplicate
policy); partner onboarding brings the full loader with located errors and hot reload.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from b2b_gateway.errors import Location, PartnerConfigError
from b2b_gateway.partners.directory import PartnerDirectory
from b2b_gateway.partners.profile import PartnerProfile

__all__ = ["load_partners"]


def load_partners(mappings_dir: Path) -> PartnerDirectory:
    """Every ``*/partner.yaml`` under ``mappings_dir`` (an absent directory is an empty directory).

    Raises:
        PartnerConfigError: a profile cannot be read or is invalid (naming the file and the field).
    """
    profiles: list[PartnerProfile] = []
    if not mappings_dir.is_dir():
        return PartnerDirectory()
    for path in sorted(mappings_dir.glob("*/partner.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            profiles.append(PartnerProfile.model_validate(data))
        except (OSError, yaml.YAMLError) as exc:
            raise PartnerConfigError(f"cannot read partner profile: {exc}", location=Location(file=str(path))) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise PartnerConfigError(
                f"invalid partner profile: {field}: {first['msg']}", location=Location(file=str(path), field=field)
            ) from None
    return PartnerDirectory(profiles)
