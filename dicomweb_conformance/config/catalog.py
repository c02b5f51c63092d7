"""The requirement catalogue (suites/catalog/*.toml, one id space) and the outcomes a check can have."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dicomweb_conformance.config.capabilities import CAPABILITIES, CLAIMED_BY, known_names
from dicomweb_conformance.config.clients import ACTIONS, CLIENTS, client_of
from dicomweb_conformance.config.target import PROFILES, TargetConfig
from dicomweb_conformance.paths import CATALOG_DIR

LEVELS = ("SHALL", "SHOULD", "MAY")
# Azure's latest API version: a target URL without a version segment is taken to mean it.
LATEST_API_VERSION = "v2"
_REQUIRED_FIELDS = ("source", "level", "feature", "text")


class Outcome(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    NON_STRICT = "NON-STRICT"
    KNOWN_DEVIATION = "KNOWN-DEVIATION"
    FIXED = "FIXED"
    NOT_APPLICABLE = "NOT-APPLICABLE"
    UNTESTABLE = "UNTESTABLE"
    BLOCKED = "BLOCKED"
    SUITE_ERROR = "SUITE-ERROR"


# Outcomes that make the run fail: the server is wrong, a check could not run because the server broke its
# set-up, or the suite could not judge. FIXED (a declared deviation now passes) fails only with strict deviations.
FAILING_OUTCOMES = frozenset({Outcome.FAIL, Outcome.BLOCKED, Outcome.SUITE_ERROR})


def failing_outcomes(*, strict_deviations: bool) -> frozenset[Outcome]:
    return FAILING_OUTCOMES | {Outcome.FIXED} if strict_deviations else FAILING_OUTCOMES


class CatalogError(ValueError):
    pass


@dataclass(frozen=True)
class Requirement:
    id: str
    source: str
    level: str
    feature: str
    text: str
    capability: str | None = None
    profiles: tuple[str, ...] = PROFILES
    levels: Mapping[str, str] | None = None
    api_versions: tuple[str, ...] | None = None  # Azure API versions (the URL's version segment) it applies to
    action: str | None = None  # a client requirement's user action (config/clients.py ACTIONS)

    @property
    def client(self) -> str | None:
        return client_of(self.feature)

    def level_for(self, profile: str) -> str:
        return (self.levels or {}).get(profile, self.level)

    def not_applicable_because(self, target: TargetConfig) -> str | None:
        if target.profile not in self.profiles:
            return (
                f"requirement {self.id} belongs to profile(s) {', '.join(self.profiles)}, the run uses {target.profile}"
            )
        if self.capability and not target.has(self.capability):
            hint = CLAIMED_BY.get(self.capability)
            return f"{target.name} does not claim capability '{self.capability}'" + (f"; {hint}" if hint else "")
        version = target.api_version or LATEST_API_VERSION
        if self.api_versions and version not in self.api_versions:
            versions = ", ".join(self.api_versions)
            return f"requirement {self.id} applies to API version(s) {versions}, the target uses {version}"
        return None


def load_catalog(directory: Path = CATALOG_DIR) -> dict[str, Requirement]:
    """requirements.toml and the per-area files beside it form one catalogue with one id space."""
    catalog: dict[str, Requirement] = {}
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        for key, entry in raw.items():
            if key in catalog:
                raise CatalogError(f"requirement {key} is defined twice (again in {path.name})")
            catalog[key] = _requirement(key, entry, path)
    return catalog


def _requirement(key: str, entry: Mapping[str, object], path: Path) -> Requirement:
    missing = [name for name in _REQUIRED_FIELDS if name not in entry]
    if missing:
        raise CatalogError(f"{path.name} [{key}] lacks {', '.join(missing)}")
    levels = dict(entry.get("levels", {}))  # type: ignore[call-overload]
    for level in [entry["level"], *levels.values()]:
        if level not in LEVELS:
            raise CatalogError(f"{path.name} [{key}] level {level!r} is not one of {', '.join(LEVELS)}")
    profiles: tuple[str, ...] = tuple(entry.get("profiles", PROFILES))  # type: ignore[arg-type]
    unknown = [p for p in [*profiles, *levels] if p not in PROFILES]
    if unknown:
        raise CatalogError(f"{path.name} [{key}] names unknown profile(s) {unknown}")
    capability = entry.get("capability")
    if capability is not None and capability not in CAPABILITIES:
        raise CatalogError(
            f"{path.name} [{key}] capability {capability!r} is not in the vocabulary; the known ones: {known_names()}"
        )
    action = _action(key, entry, path)
    return Requirement(
        id=key,
        source=str(entry["source"]),
        level=str(entry["level"]),
        feature=str(entry["feature"]),
        text=str(entry["text"]),
        capability=str(entry["capability"]) if "capability" in entry else None,
        profiles=profiles,
        levels=levels or None,
        api_versions=tuple(str(v) for v in entry["api_versions"]) if "api_versions" in entry else None,  # type: ignore[attr-defined]
        action=action,
    )


def _action(key: str, entry: Mapping[str, object], path: Path) -> str | None:
    """A client requirement (feature "clients.<client>") names the user action it belongs to; no other does."""
    client = client_of(str(entry["feature"]))
    action = entry.get("action")
    if client is None:
        if action is not None:
            raise CatalogError(f"{path.name} [{key}] has an action but is no client requirement (feature clients.*)")
        return None
    if client not in CLIENTS:
        raise CatalogError(f"{path.name} [{key}] names unknown client {client!r}; the known ones: {', '.join(CLIENTS)}")
    if action not in ACTIONS:
        what = "lacks an action" if action is None else f"action {action!r} is not one of the user actions"
        raise CatalogError(f"{path.name} [{key}] {what}; the known ones: {', '.join(ACTIONS)}")
    return str(action)
