"""Who we talk to: the target, resolved from CLI > environment > target file > defaults.

Every resolved value remembers where it came from, so an invalid one can say so.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dicomweb_conformance.paths import PROJECT_ROOT, SHIPPED_TARGETS

PROFILES = ("standard", "azure")
AUTH_METHODS = ("none", "bearer", "basic", "azure")
CLEANUP_METHODS = ("dicomweb-delete", "orthanc-rest", "none")
MODES = ("read-write", "read-only")
AZURE_DEFAULT_SCOPE = "https://dicom.healthcareapis.azure.com/.default"

DEFAULT_LOCAL_TARGET = SHIPPED_TARGETS / "orthanc.toml"

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

_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_VERSION_SEGMENT = re.compile(r"/(v\d+(?:\.\d+)?(?:-prerelease)?)/?$")


class ConfigError(ValueError):
    """An invalid setting; the message names the source it came from."""


@dataclass(frozen=True)
class Setting:
    value: Any
    source: str


@dataclass(frozen=True)
class FailureSignature:
    """How a check failed: the status of the exchange that broke the rule (None: no answer), and data loss or not."""

    status: int | None
    data_loss: bool = False

    def __str__(self) -> str:
        status = "no answer" if self.status is None else f"status {self.status}"
        return f"{status}, data loss" if self.data_loss else status


@dataclass(frozen=True)
class Deviation:
    """A behaviour of this target known to break a requirement, confirmed by hand.

    It covers only the failure it declares (the answer's status, data loss or not) on the server versions it
    names; any other failure of the same check is a FAIL ("deviation changed").
    """

    reason: str
    statuses: tuple[int | None, ...]
    requirement: str | None = None
    test: str | None = None
    data_loss: bool = False
    versions: tuple[str, ...] = ()  # empty: every version of the server
    since: str | None = None
    link: str | None = None

    def matches(self, requirement: str, nodeid: str) -> bool:
        if self.test is not None:
            return nodeid == self.test or nodeid.endswith("::" + self.test) or nodeid.split("::")[-1] == self.test
        return requirement == self.requirement

    def applies_to(self, version: str | None) -> bool:
        """`versions = ["1.10"]` covers 1.10 and 1.10.1, not 1.100; an unknown server version matches no list."""
        if not self.versions:
            return True
        return version is not None and any(version == v or version.startswith(v + ".") for v in self.versions)

    def covers(self, failure: FailureSignature) -> bool:
        return failure.status in self.statuses and failure.data_loss == self.data_loss

    @property
    def declared_failure(self) -> str:
        statuses = " or ".join("no answer" if s is None else str(s) for s in self.statuses)
        return f"status {statuses}" + (", data loss" if self.data_loss else "")


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
    poll_interval: float = 0.25
    request_timeout: float = 120.0
    launch: str | None = None
    server_name: str | None = None  # [server] name: what the version URL's product is called
    server_version_url: str | None = None  # [server] version_url: a JSON document naming the server's version
    server_version_field: str = "version"
    target_file: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def api_version(self) -> str | None:
        """The version segment of the base URL (Azure: v1, v2), or None."""
        match = _VERSION_SEGMENT.search(self.base_url)
        return match.group(1) if match else None

    def has(self, capability: str) -> bool:
        return bool(self.capabilities.get(capability, False))

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def with_base_url(self, base_url: str, source: str) -> TargetConfig:
        sources = dict(self.sources, base_url=source)
        return _replace(self, base_url=base_url.rstrip("/"), sources=sources)


def _replace(config: TargetConfig, **changes: Any) -> TargetConfig:
    from dataclasses import replace

    return replace(config, **changes)


def expand_env(value: str, where: str, environ: Mapping[str, str]) -> str:
    """Replace ${NAME} with the environment value; secrets live only in the environment."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"{where} refers to ${{{name}}}, but the environment variable {name} is not set")
        return environ[name]

    return _ENV_REFERENCE.sub(substitute, value)


def load_target_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"target file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"target file {path} is not valid TOML: {error}") from None


def derive_rest_root(dicomweb_url: str) -> str:
    """Orthanc serves its REST API beside DICOMweb: the DICOMweb URL minus its DICOMweb root."""
    url = dicomweb_url.rstrip("/")
    scheme_end = url.find("://") + 3
    path_start = url.find("/", scheme_end)
    return url if path_start == -1 else url[:path_start]


class _Resolver:
    """Looks a setting up in CLI, environment, target file, then default, in that order."""

    def __init__(
        self, cli: Mapping[str, Any], environ: Mapping[str, str], file_data: Mapping[str, Any], file_name: str
    ):
        self.cli = cli
        self.environ = environ
        self.file_data = file_data
        self.file_name = file_name

    def get(self, key: str, *, option: str | None, env: str | None, table: str, name: str, default: Any) -> Setting:
        if option is not None and self.cli.get(key) not in (None, ""):
            return Setting(self.cli[key], option)
        if env is not None and self.environ.get(env, "") != "":
            return Setting(self.environ[env], env)
        section = self.file_data.get(table, {})
        if name in section:
            return Setting(section[name], f"{self.file_name} [{table}] {name}")
        return Setting(default, "default")


def _choice(setting: Setting, allowed: tuple[str, ...], what: str) -> str:
    value = str(setting.value).strip().lower()
    if value not in allowed:
        raise ConfigError(
            f"invalid {what} {setting.value!r} (from {setting.source}): expected one of {', '.join(allowed)}"
        )
    return value


def _number(setting: Setting, what: str) -> float:
    try:
        value = float(setting.value)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid {what} {setting.value!r} (from {setting.source}): expected a number") from None
    if value <= 0:
        raise ConfigError(f"invalid {what} {setting.value!r} (from {setting.source}): must be positive")
    return value


def _url(setting: Setting) -> str:
    value = str(setting.value).strip()
    if not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(
            f"invalid DICOMweb URL {value!r} (from {setting.source}): expected http(s)://host[:port]/path"
        )
    return value.rstrip("/")


_DEVIATION_KEYS = frozenset({"reason", "requirement", "test", "status", "data_loss", "versions", "since", "link"})


def _deviations(file_data: Mapping[str, Any], file_name: str) -> tuple[Deviation, ...]:
    found = []
    for index, entry in enumerate(file_data.get("deviation", [])):
        where = f"{file_name} [[deviation]] #{index + 1}"
        unknown = sorted(set(entry) - _DEVIATION_KEYS)
        if unknown:
            raise ConfigError(f"{where} has unknown key(s) {', '.join(unknown)}")
        if not entry.get("reason"):
            raise ConfigError(f"{where} has no reason: every deviation says why")
        if bool(entry.get("requirement")) == bool(entry.get("test")):
            raise ConfigError(f"{where} must name exactly one of 'requirement' or 'test'")
        found.append(
            Deviation(
                reason=str(entry["reason"]),
                statuses=_declared_statuses(entry, where),
                requirement=entry.get("requirement"),
                test=entry.get("test"),
                data_loss=_flag(entry.get("data_loss", False), f"{where} data_loss"),
                versions=_versions(entry.get("versions", []), where),
                since=entry.get("since"),
                link=entry.get("link"),
            )
        )
    return tuple(found)


def _declared_statuses(entry: Mapping[str, Any], where: str) -> tuple[int | None, ...]:
    """`status = 400`, `status = [400, 415]`; "none" where the server gave no answer the failure could name."""
    if "status" not in entry:
        raise ConfigError(f"{where} declares no status: say which answer the deviation expects (e.g. status = 400)")
    raw = entry["status"] if isinstance(entry["status"], list) else [entry["status"]]
    statuses: list[int | None] = []
    for value in raw:
        if value == "none":
            statuses.append(None)
        elif isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            statuses.append(value)
        else:
            raise ConfigError(f'{where} status {value!r} is not an HTTP status code or "none"')
    if not statuses:
        raise ConfigError(f"{where} status is an empty list")
    return tuple(statuses)


def _versions(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f'{where} versions must be a list of version strings, e.g. ["1.10.1"]')
    return tuple(value)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


def _capabilities(profile: str, file_data: Mapping[str, Any], file_name: str) -> dict[str, bool]:
    capabilities = dict(PROFILE_CAPABILITIES[profile])
    for name, value in file_data.get("capabilities", {}).items():
        if not isinstance(value, bool):
            raise ConfigError(f"{file_name} [capabilities] {name} must be true or false, not {value!r}")
        capabilities[name] = value
    return capabilities


def _auth(resolve: _Resolver, environ: Mapping[str, str]) -> AuthConfig:
    method_setting = resolve.get(
        "auth", option="--dicomweb-auth", env="DICOMWEB_AUTH", table="auth", name="method", default="none"
    )
    method = _choice(method_setting, AUTH_METHODS, "auth method")
    where = resolve.file_name + " [auth]"
    section = resolve.file_data.get("auth", {})

    def secret(env: str, key: str) -> str | None:
        if environ.get(env):
            return environ[env]
        if key in section:
            raw = str(section[key])
            if not _ENV_REFERENCE.search(raw):
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


def _tls(resolve: _Resolver) -> bool | str:
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
    bare = _Resolver(cli, environ, {}, "")
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
    file_name = _display_path(file_path) if file_path else "(no target file)"
    resolve = _Resolver(cli, environ, file_data, file_name)

    profile = _choice(
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
    base_url = _url(url_setting) if url_setting.value is not None else ""
    cleanup = file_data.get("cleanup", {})
    cleanup_method = _choice(
        Setting(cleanup.get("method", "none"), f"{file_name} [cleanup] method"), CLEANUP_METHODS, "cleanup method"
    )
    mode = _choice(
        resolve.get("mode", option=None, env="DICOMWEB_MODE", table="target", name="mode", default="read-write"),
        MODES,
        "mode",
    )
    timing = {
        key: _number(
            resolve.get(key, option=None, env=None, table="timing", name=key, default=default), f"timing {key}"
        )
        for key, default in (("visibility_timeout", 30.0), ("poll_interval", 0.25), ("request_timeout", 120.0))
    }
    auth = _auth(resolve, environ)
    server = _server_section(file_data, file_name)
    capabilities = _capabilities(profile, file_data, file_name)
    capabilities.setdefault("auth.required", auth.method != "none")
    return TargetConfig(
        name=str(file_data.get("target", {}).get("name", base_url or "unnamed target")),
        base_url=base_url,
        profile=profile,
        auth=auth,
        capabilities=capabilities,
        deviations=_deviations(file_data, file_name),
        cleanup_method=cleanup_method,
        cleanup_rest_url=cleanup.get("rest_url"),
        mode=mode,
        verify_tls=_tls(resolve),
        launch=None if url_setting.value is not None else launch,
        target_file=file_path,
        sources={"base_url": url_setting.source},
        server_name=server.get("name"),
        server_version_url=server.get("version_url"),
        server_version_field=str(server.get("version_field", "version")),
        **timing,
    )


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


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
