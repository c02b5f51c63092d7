"""The CI targets the real-client agreement tests run on, started fresh, each with what the suite and the library
need to reach it: Orthanc 1.10 and 1.12, tiny-pacs (bearer token), the Azure facade's v1 and v2 routes (bearer)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dicomweb_conformance.config.catalog import Outcome, load_catalog
from dicomweb_conformance.config.target import resolve_target
from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.doubles.facade.server import facade_over_fresh_orthanc
from tests.doubles.tiny_pacs_server import TinyPacsServer
from tests.integration.suite_runner import ROOT, SuiteRun, run_suite

ORTHANC_TARGET = str(ROOT / "targets" / "orthanc.toml")
TINY_PACS_TARGET = str(ROOT / "targets" / "tiny-pacs.toml")
FACADE_TARGET = str(ROOT / "targets" / "azure-facade.toml")
TOKEN = "client-agree-bearer-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@dataclass(frozen=True)
class Served:
    """A running target: its DICOMweb URL, its target file, the suite's environment, the library's headers."""

    url: str
    target: str
    env: dict[str, str]
    headers: dict[str, str]


@contextmanager
def _orthanc(generation: str) -> Iterator[Served]:
    with OrthancServer(generation=generation) as orthanc:
        yield Served(orthanc.dicomweb_url, ORTHANC_TARGET, {}, {})


@contextmanager
def _tiny_pacs() -> Iterator[Served]:
    with TinyPacsServer(tokens=[TOKEN]) as server:
        yield Served(server.dicomweb_url, TINY_PACS_TARGET, {"DICOMWEB_TOKEN": TOKEN}, BEARER)


@contextmanager
def _facade(version: str) -> Iterator[Served]:
    with facade_over_fresh_orthanc(tokens={TOKEN}) as facade:
        yield Served(facade.url(version), FACADE_TARGET, {"DICOMWEB_TOKEN": TOKEN}, BEARER)


TARGETS: dict[str, Callable[[], AbstractContextManager[Served]]] = {
    "orthanc-1.10": lambda: _orthanc("1.10"),
    "orthanc-1.12": lambda: _orthanc("1.12"),
    "tiny-pacs": _tiny_pacs,
    "facade-v1": lambda: _facade("v1"),
    "facade-v2": lambda: _facade("v2"),
}


def not_claimed(served: Served, checks: dict[str, Any], module: str) -> set[str]:
    """The checks whose requirement needs a capability the target file does not claim."""
    target = resolve_target({"url": served.url, "target": served.target}, served.env)
    catalog = load_catalog()
    return {
        node.removeprefix(module)
        for node, check in checks.items()
        if catalog[check["requirement"]].not_applicable_because(target) is not None
    }


def run_profile(reports: Path, served: Served, keyword: str) -> SuiteRun:
    """The suite's checks selected by `keyword` (-k), with the target's shipped file; the run must be green."""
    run = run_suite(
        reports,
        "--dicomweb-url",
        served.url,
        "--dicomweb-target",
        served.target,
        "-k",
        keyword,
        env=served.env,
        timeout=300,
    )
    assert run.returncode == 0, run.output[-3000:]
    return run


def assert_verdicts_agree(
    target: str,
    run: SuiteRun,
    module: str,
    results: Mapping[str, tuple[bool, str]],
    unclaimed: set[str],
    labels: Mapping[str, str],
) -> None:
    """Every check has its library result; a judged check PASSes exactly where the library call succeeds; the
    checks left NOT-APPLICABLE are exactly those the target does not claim. Prints the table either way."""
    outcomes = {nodeid.removeprefix(module): outcome for nodeid, outcome in run.outcomes.items()}
    assert set(outcomes) == set(results), "every check has its library call"
    judged = {check for check, outcome in outcomes.items() if outcome != Outcome.NOT_APPLICABLE.value}
    width = max(len(label) for label in labels.values()) + 2
    table = [
        f"{labels[check]:<{width}} {detail:<60} {outcomes[check]}{'' if check in judged else ' (not judged)'}"
        for check, (_, detail) in sorted(results.items())
    ]
    print(f"\n{target}: {run.server_version}\n" + "\n".join(table))
    assert set(outcomes) - judged == unclaimed, "NOT-APPLICABLE exactly where a capability is not claimed"
    disagreements = {
        check: (detail, outcomes[check])
        for check, (ok, detail) in results.items()
        if check in judged and ok != (outcomes[check] == Outcome.PASS.value)
    }
    assert disagreements == {}, "(library, check outcome) per judged check"
