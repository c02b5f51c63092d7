"""Capabilities: what a target claims to serve, which makes the requirements that need it applicable.

CAPABILITIES is the one vocabulary: the catalogue's `capability` fields, the target files' [capabilities] tables
and the checks' `target.has(...)` use only its names (an unknown one is an error where it is written, never a
claim that silently makes checks NOT-APPLICABLE).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dicomweb_conformance.config.settings import ConfigError

CAPABILITIES: dict[str, str] = {
    "stow": "STOW-RS: POST multipart/related application/dicom to /studies[/{study}] (PS3.18 10.5)",
    "stow.single_part": "STOW of one instance as a single-part application/dicom body (Azure, not PS3.18)",
    "wado": "WADO-RS retrieve of studies, series and instances (PS3.18 10.4)",
    "wado.metadata": "WADO-RS .../metadata at study, series and instance level (PS3.18 10.4.1.1.2)",
    "wado.frames": "WADO-RS .../frames/{frames} (PS3.18 10.4.1.1.4)",
    "wado.rendered": "WADO-RS .../rendered (PS3.18 10.4.1.1.3)",
    "wado.single_part_instance": "WADO-RS of one instance as a single-part application/dicom answer",
    "qido": "QIDO-RS searches for studies, series and instances (PS3.18 10.6)",
    "qido.wildcard_pn": "wild card matching of person names (PS3.4 C.2.2.2.4 leaves it to the implementation)",
    "delete": "DELETE of studies, series and instances over DICOMweb (Azure; PS3.18 10.7 does not define it)",
    "changefeed": "the Azure change feed: GET /changefeed and /changefeed/latest",
    "auth.required": "the target refuses requests without credentials (default: true when an auth method is set)",
    "cors": "a browser viewer reaches the target from another web origin: claimed by `[cors] origin` alone",
}

# How a capability is claimed when a [capabilities] entry is not the way (the NOT-APPLICABLE reason says it).
CLAIMED_BY = {
    "cors": 'to check it, add [cors] origin = "http://viewer.example:3000" (the origin your viewer is served from)'
    " to the target file",
}

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


class UnknownCapability(ValueError):
    """A capability name outside the vocabulary, asked for by the suite itself: a bug of the suite."""


def known_names() -> str:
    return ", ".join(sorted(CAPABILITIES))


def check_known(capability: str) -> str:
    """The name, when it is in the vocabulary; an UnknownCapability otherwise."""
    if capability not in CAPABILITIES:
        raise UnknownCapability(f"unknown capability {capability!r}; the known ones: {known_names()}")
    return capability


def capabilities_of(profile: str, file_data: Mapping[str, Any], file_name: str) -> dict[str, bool]:
    capabilities = dict(PROFILE_CAPABILITIES[profile])
    for name, value in file_data.get("capabilities", {}).items():
        if name in CLAIMED_BY:
            raise ConfigError(f"{file_name} [capabilities] {name} cannot be claimed there: {CLAIMED_BY[name]}")
        if name not in CAPABILITIES:
            raise ConfigError(
                f"{file_name} [capabilities] {name} is not a capability the suite knows; the known ones: "
                f"{known_names()} (dicomweb_conformance/config/capabilities.py)"
            )
        if not isinstance(value, bool):
            raise ConfigError(f"{file_name} [capabilities] {name} must be true or false, not {value!r}")
        capabilities[name] = value
    return capabilities
