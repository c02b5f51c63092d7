"""Reading a target's settings: where each value comes from (CLI > environment > target file > defaults), and the
checks every value passes, each error naming its source."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dicomweb_conformance.paths import PROJECT_ROOT

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(ValueError):
    """An invalid setting; the message names the source it came from."""


@dataclass(frozen=True)
class Setting:
    value: Any
    source: str


def expand_env(value: str, where: str, environ: Mapping[str, str]) -> str:
    """Replace ${NAME} with the environment value; secrets live only in the environment."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"{where} refers to ${{{name}}}, but the environment variable {name} is not set")
        return environ[name]

    return ENV_REFERENCE.sub(substitute, value)


def load_target_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"target file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"target file {path} is not valid TOML: {error}") from None


class Resolver:
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


def choice(setting: Setting, allowed: tuple[str, ...], what: str) -> str:
    value = str(setting.value).strip().lower()
    if value not in allowed:
        raise ConfigError(
            f"invalid {what} {setting.value!r} (from {setting.source}): expected one of {', '.join(allowed)}"
        )
    return value


def number(setting: Setting, what: str, *, zero_allowed: bool = False) -> float:
    try:
        value = float(setting.value)
    except (TypeError, ValueError):
        raise ConfigError(f"invalid {what} {setting.value!r} (from {setting.source}): expected a number") from None
    if value < 0 or (value == 0 and not zero_allowed):
        limit = "zero or more" if zero_allowed else "positive"
        raise ConfigError(f"invalid {what} {setting.value!r} (from {setting.source}): must be {limit}")
    return value


def concurrency(setting: Setting) -> int:
    """How many independent requests a fixture may have in flight at once (--dicomweb-concurrency); 1: serial."""
    text = str(setting.value).strip()
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(
            f"invalid concurrency {setting.value!r} (from {setting.source}): expected a whole number >= 1"
        )
    return int(text)


def url_setting_value(setting: Setting) -> str:
    value = str(setting.value).strip()
    if not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(
            f"invalid DICOMweb URL {value!r} (from {setting.source}): expected http(s)://host[:port]/path"
        )
    return value.rstrip("/")


def flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
