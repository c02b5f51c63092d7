"""Deviations: what a target file declares its server breaks, and the failure each covers."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dicomweb_conformance.config.settings import ConfigError, flag


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
    # The API versions (the base URL's version segment, Azure's v1 / v2) it is seen on; empty: any URL.
    api_versions: tuple[str, ...] = ()
    # The per-file checks (suites/samples) of files stored in these syntaxes only; empty: whatever the file.
    transfer_syntaxes: tuple[str, ...] = ()
    since: str | None = None
    link: str | None = None
    where: str = field(default="", compare=False)  # "targets/x.toml [[deviation]] #3": for errors that name it

    def matches(self, requirement: str, nodeid: str, syntax: str | None = None) -> bool:
        """Names this check; `syntax` (a per-file check's stored syntax, "" for any other) must be one declared."""
        if self.transfer_syntaxes and syntax is not None and syntax not in self.transfer_syntaxes:
            return False
        if self.test is not None and "*" in self.test:
            # test = "test_found_by_attribute[*-PatientName]": '*' stands for any text, nothing else is special.
            pattern = ".*".join(re.escape(part) for part in self.test.split("*"))
            return re.fullmatch(pattern, nodeid.split("::")[-1]) is not None
        if self.test is not None:
            return nodeid == self.test or nodeid.endswith("::" + self.test) or nodeid.split("::")[-1] == self.test
        return requirement == self.requirement

    def applies_to(self, version: str | None) -> bool:
        """`versions = ["1.10"]` covers 1.10 and 1.10.1, not 1.100; an unknown server version matches no list."""
        if not self.versions:
            return True
        return version is not None and any(version == v or version.startswith(v + ".") for v in self.versions)

    def applies_to_api(self, api_version: str | None) -> bool:
        """`api_versions = ["v1"]` covers a target whose base URL ends in /v1 only."""
        return not self.api_versions or api_version in self.api_versions

    def covers(self, failure: FailureSignature) -> bool:
        return failure.status in self.statuses and failure.data_loss == self.data_loss

    @property
    def declared_failure(self) -> str:
        statuses = " or ".join("no answer" if s is None else str(s) for s in self.statuses)
        return f"status {statuses}" + (", data loss" if self.data_loss else "")


_DEVIATION_KEYS = frozenset(
    {
        "reason",
        "requirement",
        "test",
        "status",
        "data_loss",
        "versions",
        "api_versions",
        "transfer_syntaxes",
        "since",
        "link",
    }
)


def deviations_of(file_data: Mapping[str, Any], file_name: str) -> tuple[Deviation, ...]:
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
                data_loss=flag(entry.get("data_loss", False), f"{where} data_loss"),
                versions=_versions(entry.get("versions", []), where),
                api_versions=_versions(entry.get("api_versions", []), where),
                transfer_syntaxes=_uids(entry.get("transfer_syntaxes", []), where),
                since=entry.get("since"),
                link=entry.get("link"),
                where=where,
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


def _uids(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and re.fullmatch(r"[0-9]+(\.[0-9]+)*", v) for v in value
    ):
        raise ConfigError(f'{where} transfer_syntaxes must be a list of UIDs, e.g. ["1.2.840.10008.1.2.4.90"]')
    return tuple(value)


def check_requirements_known(deviations: Iterable[Deviation], requirement_ids: Collection[str]) -> None:
    """Every `requirement = ...` deviation names a requirement of the catalogue (ConfigError otherwise)."""
    unknown = [d for d in deviations if d.requirement is not None and d.requirement not in requirement_ids]
    if unknown:
        raise ConfigError(
            "deviation(s) naming no requirement of the catalogue (suites/catalog/*.toml):\n  "
            + "\n  ".join(f"{d.where}: requirement {d.requirement!r}" for d in unknown)
        )


def _function(test: str) -> str:
    return test.split("::")[-1].split("[")[0]


def unmatched_tests(deviations: Iterable[Deviation], nodeids: Collection[str], *, whole_suite: bool) -> list[Deviation]:
    """The `test = ...` deviations that name no collected test. When only part of the suite was collected, only
    those whose test function was collected can be judged (a misspelt parameter id); the others are not in this
    run."""
    functions = {_function(nodeid) for nodeid in nodeids}
    return [
        d
        for d in deviations
        if d.test is not None
        and not any(d.matches("", nodeid) for nodeid in nodeids)
        and (whole_suite or _function(d.test) in functions)
    ]
