"""What the target really is: product name and version as the server tells them, never as a target file says."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from dicomweb_conformance.config.target import TargetConfig, derive_rest_root

DETECT_TIMEOUT = 10.0
_SERVER_HEADER = re.compile(r"^\s*([A-Za-z][\w.\- ]*?)[/ ]v?(\d+(?:\.\d+)+)")


@dataclass(frozen=True)
class ServerInfo:
    name: str | None
    version: str | None
    source: str  # how it was learned: the URL asked, or "not detected"
    components: tuple[tuple[str, str], ...] = ()

    @property
    def known(self) -> bool:
        return self.version is not None

    def describe(self) -> str:
        if not self.known:
            return f"unknown server version ({self.source})"
        extra = "".join(f" + {name} {version}" for name, version in self.components)
        return f"{self.name} {self.version}{extra} (from {self.source})"


UNKNOWN = ServerInfo(None, None, "not detected")


def detect(
    session: requests.Session,
    target: TargetConfig,
    first_answer: requests.Response | None,
    auth: AuthBase | None = None,
) -> ServerInfo:
    """The target file's version URL, else Orthanc's /system beside the DICOMweb root, else the Server header.
    The run's credentials go only to the DICOMweb root's own origin."""
    ask = _Asker(session, target, auth)
    if target.server_version_url:
        return _from_version_url(ask, target) or UNKNOWN
    return _orthanc(ask, target) or _from_server_header(first_answer) or UNKNOWN


class _Asker:
    def __init__(self, session: requests.Session, target: TargetConfig, auth: AuthBase | None):
        self.session, self.auth, self.origin = session, auth, _origin(target.base_url)

    def __call__(self, url: str) -> Any:
        auth = self.auth if _origin(url) == self.origin else None
        return _get_json(self.session, url, auth)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _get_json(session: requests.Session, url: str, auth: AuthBase | None) -> Any:
    try:
        response = session.get(url, headers={"Accept": "application/json"}, auth=auth, timeout=DETECT_TIMEOUT)
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _orthanc(ask: _Asker, target: TargetConfig) -> ServerInfo | None:
    root = target.orthanc_rest_root
    system = ask(f"{root}/system")
    # Orthanc's /system names its API and database versions; the "Name" key is the configured instance name.
    if not isinstance(system, dict) or not {"Version", "ApiVersion", "DatabaseVersion"} <= system.keys():
        return None
    plugin = ask(f"{root}/plugins/dicom-web")
    components = (
        (("DICOMweb plugin", str(plugin["Version"])),) if isinstance(plugin, dict) and "Version" in plugin else ()
    )
    return ServerInfo("Orthanc", str(system["Version"]), f"{root}/system", components)


def _from_version_url(ask: _Asker, target: TargetConfig) -> ServerInfo | None:
    url = target.server_version_url or ""
    if not url.startswith(("http://", "https://")):
        url = derive_rest_root(target.base_url) + "/" + url.lstrip("/")
    document = ask(url)
    if not isinstance(document, dict) or target.server_version_field not in document:
        return ServerInfo(target.server_name, None, f"{url} gave no '{target.server_version_field}'")
    return ServerInfo(target.server_name, str(document[target.server_version_field]), url)


def _from_server_header(response: requests.Response | None) -> ServerInfo | None:
    header = response.headers.get("Server", "") if response is not None else ""
    match = _SERVER_HEADER.match(header)
    if not match:
        return None
    return ServerInfo(match.group(1).strip(), match.group(2), f"the Server header {header!r}")
