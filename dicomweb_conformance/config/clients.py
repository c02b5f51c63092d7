"""The client profiles (issue 12): which clients the suite knows, the user actions their requirements belong to,
and which profiles a run chooses (--dicomweb-clients, DICOMWEB_CLIENTS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dicomweb_conformance.config.settings import ConfigError, Resolver

# key (as in a requirement's feature "clients.<key>" and in --dicomweb-clients) -> the name people know it by
CLIENTS: dict[str, str] = {
    "dicomweb-client": "dicomweb-client",
    "ohif": "OHIF",
    "cornerstone": "cornerstone3D",
    "slicer": "3D Slicer",
}

# A client requirement's `action`: the user action whose requests it reproduces, in the order a user meets them.
ACTIONS: dict[str, str] = {
    "study-list": "open the study list",
    "page-list": "page through a list",
    "open-study": "open a study",
    "view-images": "scroll a series",
    "download": "download",
    "save": "save",
    "browser-access": "reach the server from the viewer's web origin (CORS)",
}

CLIENT_FEATURE_PREFIX = "clients."
NO_CLIENTS = "none"


def client_of(feature: str) -> str | None:
    """The client a requirement's feature names ("clients.ohif" -> "ohif"); None for a conformance feature."""
    return feature.removeprefix(CLIENT_FEATURE_PREFIX) if feature.startswith(CLIENT_FEATURE_PREFIX) else None


@dataclass(frozen=True)
class ClientSelection:
    """The client profiles a run chooses, and where that choice came from."""

    chosen: tuple[str, ...]
    source: str

    def runs(self, client: str) -> bool:
        return client in self.chosen


ALL_CLIENTS = ClientSelection(tuple(CLIENTS), "default")


def select_clients(cli_value: str | None, environ: Mapping[str, str]) -> ClientSelection:
    """--dicomweb-clients, else DICOMWEB_CLIENTS, else every client: a comma-separated list of keys, or `none`."""
    setting = Resolver({"clients": cli_value}, environ, {}, "").get(
        "clients", option="--dicomweb-clients", env="DICOMWEB_CLIENTS", table="", name="", default=None
    )
    if setting.value is None:
        return ALL_CLIENTS
    names = [name.strip().lower() for name in str(setting.value).split(",") if name.strip()]
    if names == [NO_CLIENTS]:
        return ClientSelection((), setting.source)
    unknown = [name for name in names if name not in CLIENTS]
    if unknown or not names:
        raise ConfigError(
            f"invalid client profile(s) {', '.join(unknown) or repr(setting.value)} (from {setting.source}): "
            f"expected a comma-separated list of {', '.join(CLIENTS)}, or {NO_CLIENTS}"
        )
    return ClientSelection(tuple(name for name in CLIENTS if name in names), setting.source)
