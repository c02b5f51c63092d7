"""Who we talk to: the target, resolved from CLI > environment > target file > defaults.

Every resolved value remembers where it came from, so an invalid one can say so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dicomweb_conformance.config.capabilities import capabilities_of, check_known
from dicomweb_conformance.config.deviations import Deviation, deviations_of
from dicomweb_conformance.config.settings import (
    ENV_REFERENCE,
    ConfigError,
    Resolver,
    Setting,
    choice,
    display_path,
    expand_env,
    load_target_file,
    number,
    url_setting_value,
)
from dicomweb_conformance.paths import SHIPPED_TARGETS

PROFILES = ("standard", "azure")
AUTH_METHODS = ("none", "bearer", "basic", "azure")
CLEANUP_METHODS = ("dicomweb-delete", "orthanc-rest", "none")
MODES = ("read-write", "read-only")
AZURE_DEFAULT_SCOPE = "https://dicom.healthcareapis.azure.com/.default"

DEFAULT_LOCAL_TARGET = SHIPPED_TARGETS / "orthanc.toml"

_VERSION_SEGMENT = re.compile(r"/(v\d+(?:\.\d+)?(?:-prerelease)?)/?$")


@dataclass(frozen=True)
class AuthConfig:
    method: str = "none"
    # Secrets stay out of repr: pytest and hypothesis print fixture values in failure reports.
    token: str | None = field(default=None, repr=False)
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    scope: str = AZURE_DEFAULT_SCOPE
    credential_factory: str | None = None  # "module:callable" returning a TokenCredential (tests, custom identities)


@dataclass(frozen=True)
class TargetConfig:
    name: str
    base_url: str
    profile: str
    auth: AuthConfig
    capabilities: Mapping[str, bool]
    deviations: tuple[Deviation, ...] = ()
    cleanup_method: str = "none"
    cleanup_rest_url: str | None = None
    mode: str = "read-write"
    verify_tls: bool | str = True
    visibility_timeout: float = 30.0
    fuzzy_index_timeout: float = 30.0  # how long a fuzzy (full-text) match may lag behind a stored instance
    poll_interval: float = 0.25
    request_timeout: float = 120.0
    launch: str | None = None
    server_name: str | None = None  # [server] name: what the version URL's product is called
    server_version_url: str | None = None  # [server] version_url: a JSON document naming the server's version
    server_version_field: str = "version"
    target_file: Path | None = None
    samples_dir: Path | None = None  # the user's own DICOM files (--dicomweb-samples); None: the built-in corpus
    # [transfer_syntaxes]: what the target claims to store as sent, and to transcode frames into (no claim: none).
    stores_syntaxes: tuple[str, ...] = ()
    transcodes_to: tuple[str, ...] = ()
    cors_origin: str | None = (
        None  # [cors] origin: the web origin a browser viewer is served from (None: no CORS checks)
    )
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def api_version(self) -> str | None:
        """The version segment of the base URL (Azure: v1, v2), or None."""
        match = _VERSION_SEGMENT.search(self.base_url)
        return match.group(1) if match else None

    @property
    def orthanc_rest_root(self) -> str:
        """Orthanc's REST API: [cleanup] rest_url, else beside the DICOMweb root (no trailing slash)."""
        return (self.cleanup_rest_url or derive_rest_root(self.base_url)).rstrip("/")

    def has(self, capability: str) -> bool:
        return bool(self.capabilities.get(check_known(capability), False))

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def with_base_url(self, base_url: str, source: str) -> TargetConfig:
        sources = dict(self.sources, base_url=source)
        return _replace(self, base_url=base_url.rstrip("/"), sources=sources)


def _replace(config: TargetConfig, **changes: Any) -> TargetConfig:
    from dataclasses import replace

    return replace(config, **changes)


def derive_rest_root(dicomweb_url: str) -> str:
    """Orthanc serves its REST API beside DICOMweb: the DICOMweb URL minus its DICOMweb root."""
    url = dicomweb_url.rstrip("/")
    scheme_end = url.find("://") + 3
    path_start = url.find("/", scheme_end)
    return url if path_start == -1 else url[:path_start]


def _auth(resolve: Resolver, environ: Mapping[str, str]) -> AuthConfig:
    method_setting = resolve.get(
        "auth", option="--dicomweb-auth", env="DICOMWEB_AUTH", table="auth", name="method", default="none"
    )
    method = choice(method_setting, AUTH_METHODS, "auth method")
    where = resolve.file_name + " [auth]"
    section = resolve.file_data.get("auth", {})

    def secret(env: str, key: str) -> str | None:
        if environ.get(env):
            return environ[env]
        if key in section:
            raw = str(section[key])
            if not ENV_REFERENCE.search(raw):
                raise ConfigError(f"{where} {key} must be written as ${{ENV_VAR}}: secrets never live in target files")
            return expand_env(raw, f"{where} {key}", environ)
        return None

    uses_token, uses_password = method == "bearer", method == "basic"
    auth = AuthConfig(
        method=method,
        token=secret("DICOMWEB_TOKEN", "token") if uses_token else None,
        username=secret("DICOMWEB_USERNAME", "username") if uses_password else None,
        password=secret("DICOMWEB_PASSWORD", "password") if uses_password else None,
        scope=str(section.get("scope", environ.get("DICOMWEB_AZURE_SCOPE", AZURE_DEFAULT_SCOPE))),
        credential_factory=environ.get("DICOMWEB_AZURE_CREDENTIAL") or section.get("credential"),
    )
    if method == "bearer" and not auth.token:
        raise ConfigError(f"auth method 'bearer' (from {method_setting.source}) needs a token in DICOMWEB_TOKEN")
    if method == "basic" and not (auth.username and auth.password):
        raise ConfigError(
            f"auth method 'basic' (from {method_setting.source}) needs DICOMWEB_USERNAME and DICOMWEB_PASSWORD"
        )
    return auth


def _tls(resolve: Resolver) -> bool | str:
    ca_bundle = resolve.get(
        "ca_bundle", option="--dicomweb-ca-bundle", env="DICOMWEB_CA_BUNDLE", table="tls", name="ca_bundle", default=""
    )
    insecure = resolve.get(
        "insecure", option="--dicomweb-insecure", env="DICOMWEB_INSECURE", table="tls", name="insecure", default=False
    )
    if str(insecure.value).strip().lower() in ("1", "true", "yes"):
        return False
    if ca_bundle.value:
        path = Path(str(ca_bundle.value)).expanduser()
        if not path.exists():
            raise ConfigError(f"CA bundle {path} (from {ca_bundle.source}) does not exist")
        return str(path)
    return True


def resolve_target(cli: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> TargetConfig:
    """Build the TargetConfig. `cli` keys: url, target, profile, auth, ca_bundle, insecure.

    With no URL anywhere and no target file, the local Orthanc target file is used and
    its `launch` entry tells the plugin to start that server.
    """
    environ = os.environ if environ is None else environ
    bare = Resolver(cli, environ, {}, "")
    target_setting = bare.get(
        "target", option="--dicomweb-target", env="DICOMWEB_TARGET", table="", name="", default=None
    )
    url_given = bare.get("url", option="--dicomweb-url", env="DICOMWEB_URL", table="", name="", default=None)
    file_path: Path | None = None
    if target_setting.value:
        file_path = _target_path(str(target_setting.value))
        if not file_path.exists():
            raise ConfigError(f"target file {file_path} (from {target_setting.source}) does not exist")
    elif url_given.value is None:
        file_path = DEFAULT_LOCAL_TARGET
    file_data = load_target_file(file_path) if file_path else {}
    file_name = display_path(file_path) if file_path else "(no target file)"
    resolve = Resolver(cli, environ, file_data, file_name)

    profile = choice(
        resolve.get(
            "profile",
            option="--dicomweb-profile",
            env="DICOMWEB_PROFILE",
            table="target",
            name="profile",
            default="standard",
        ),
        PROFILES,
        "profile",
    )
    url_setting = resolve.get(
        "url", option="--dicomweb-url", env="DICOMWEB_URL", table="target", name="base_url", default=None
    )
    launch = file_data.get("target", {}).get("launch")
    if url_setting.value is None and not launch:
        raise ConfigError(f"no DICOMweb URL: give --dicomweb-url, DICOMWEB_URL, or base_url in {file_name}")
    base_url = url_setting_value(url_setting) if url_setting.value is not None else ""
    cleanup = file_data.get("cleanup", {})
    cleanup_method = choice(
        Setting(cleanup.get("method", "none"), f"{file_name} [cleanup] method"), CLEANUP_METHODS, "cleanup method"
    )
    mode = choice(
        resolve.get("mode", option=None, env="DICOMWEB_MODE", table="target", name="mode", default="read-write"),
        MODES,
        "mode",
    )
    timing = {
        key: number(resolve.get(key, option=None, env=None, table="timing", name=key, default=default), f"timing {key}")
        for key, default in (("visibility_timeout", 30.0), ("poll_interval", 0.25), ("request_timeout", 120.0))
    }
    # Azure fills its full-text index asynchronously; unless the file says otherwise, it lags like any search.
    fuzzy_default = timing["visibility_timeout"]
    fuzzy = resolve.get(
        "fuzzy_index_timeout", option=None, env=None, table="timing", name="fuzzy_index_timeout", default=fuzzy_default
    )
    timing["fuzzy_index_timeout"] = number(fuzzy, "timing fuzzy_index_timeout", zero_allowed=True)  # 0: ask once
    auth = _auth(resolve, environ)
    samples = _samples_dir(resolve, file_path)
    server = _server_section(file_data, file_name)
    capabilities = capabilities_of(profile, file_data, file_name)
    capabilities.setdefault("auth.required", auth.method != "none")
    cors_origin = _cors_origin(file_data, file_name)
    capabilities["cors"] = cors_origin is not None
    return TargetConfig(
        name=str(file_data.get("target", {}).get("name", base_url or "unnamed target")),
        base_url=base_url,
        profile=profile,
        auth=auth,
        capabilities=capabilities,
        deviations=deviations_of(file_data, file_name),
        cleanup_method=cleanup_method,
        cleanup_rest_url=cleanup.get("rest_url"),
        mode=mode,
        verify_tls=_tls(resolve),
        launch=None if url_setting.value is not None else launch,
        target_file=file_path,
        samples_dir=samples,
        stores_syntaxes=_syntax_list(file_data, file_name, "stores"),
        transcodes_to=_syntax_list(file_data, file_name, "transcodes_to"),
        cors_origin=cors_origin,
        sources={"base_url": url_setting.source},
        server_name=server.get("name"),
        server_version_url=server.get("version_url"),
        server_version_field=str(server.get("version_field", "version")),
        **timing,
    )


def _syntax_list(file_data: Mapping[str, Any], file_name: str, key: str) -> tuple[str, ...]:
    value = file_data.get("transfer_syntaxes", {}).get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)*", v) for v in value
    ):
        raise ConfigError(f"{file_name} [transfer_syntaxes] {key} must be a list of transfer syntax UIDs")
    return tuple(value)


_ORIGIN = re.compile(r"https?://[^/?#\s]+")


def _cors_origin(file_data: Mapping[str, Any], file_name: str) -> str | None:
    """[cors] origin: scheme, host and port of the page a browser viewer runs in (an origin has no path)."""
    section: Mapping[str, Any] = file_data.get("cors", {})
    unknown = sorted(set(section) - {"origin"})
    if unknown:
        raise ConfigError(f"{file_name} [cors] has unknown key(s) {', '.join(unknown)}")
    origin = section.get("origin")
    if origin is None:
        return None
    if not isinstance(origin, str) or not _ORIGIN.fullmatch(origin):
        raise ConfigError(f"{file_name} [cors] origin must be scheme://host[:port] with no path, not {origin!r}")
    return origin


def _samples_dir(resolve: Resolver, file_path: Path | None) -> Path | None:
    """The folder of the user's own DICOM files; a relative path in a target file is relative to that file."""
    setting = resolve.get(
        "samples", option="--dicomweb-samples", env="DICOMWEB_SAMPLES", table="samples", name="dir", default=None
    )
    if setting.value in (None, ""):
        return None
    path = Path(str(setting.value)).expanduser()
    if not path.is_absolute() and file_path is not None and setting.source.startswith(resolve.file_name):
        path = file_path.parent / path
    if not path.is_dir():
        raise ConfigError(f"samples folder {path} (from {setting.source}) is not a folder")
    return path.resolve()


def _target_path(setting: str) -> Path:
    """A path, or the name of a shipped target file (`orthanc` is targets/orthanc.toml), usable from anywhere."""
    shipped = SHIPPED_TARGETS / f"{setting}.toml"
    if "/" not in setting and not setting.endswith(".toml") and shipped.exists():
        return shipped
    return Path(setting).expanduser()


def shipped_target_for(product: str | None) -> Path | None:
    """The shipped target file whose [server] product is the product detected, for a run given only a URL."""
    if product is None:
        return None
    for path in sorted(SHIPPED_TARGETS.glob("*.toml")):
        if load_target_file(path).get("server", {}).get("product") == product:
            return path
    return None


def _server_section(file_data: Mapping[str, Any], file_name: str) -> Mapping[str, Any]:
    """[server] version_url (absolute, or a path on the DICOMweb origin), version_field, name; product: the
    detected server name whose deviations this file declares (chosen for a run given only a URL)."""
    section: Mapping[str, Any] = file_data.get("server", {})
    unknown = sorted(set(section) - {"version_url", "version_field", "name", "product"})
    if unknown:
        raise ConfigError(f"{file_name} [server] has unknown key(s) {', '.join(unknown)}")
    return section
