"""Capabilities: what a target claims to serve, which makes the requirements that need it applicable."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dicomweb_conformance.config.settings import ConfigError

# What a profile claims when the target file says nothing.
PROFILE_CAPABILITIES: dict[str, dict[str, bool]] = {
    "standard": {
        "stow": True,
        "wado": True,
        "wado.metadata": True,
        "wado.frames": True,
        "wado.single_part_instance": True,
        "qido": True,
        "stow.single_part": False,
        "delete": False,
        "changefeed": False,
    },
    "azure": {
        "stow": True,
        "wado": True,
        "wado.metadata": True,
        "wado.frames": True,
        "wado.single_part_instance": True,
        "qido": True,
        "stow.single_part": True,
        "delete": True,
        "changefeed": True,
    },
}


def capabilities_of(profile: str, file_data: Mapping[str, Any], file_name: str) -> dict[str, bool]:
    capabilities = dict(PROFILE_CAPABILITIES[profile])
    for name, value in file_data.get("capabilities", {}).items():
        if not isinstance(value, bool):
            raise ConfigError(f"{file_name} [capabilities] {name} must be true or false, not {value!r}")
        capabilities[name] = value
    return capabilities
