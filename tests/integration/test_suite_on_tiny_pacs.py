"""The whole suite against a real tiny-pacs with bearer tokens: declared outcomes hold, the token stays secret."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from dicomweb_conformance.config.catalog import FAILING_OUTCOMES, Outcome
from dicomweb_conformance.config.target import resolve_target
from tests.doubles.tiny_pacs_server import TinyPacsServer
from tests.integration.suite_runner import ROOT, SuiteRun, declared_outcomes, run_suite

TINY_PACS_TARGET = str(ROOT / "targets" / "tiny-pacs.toml")
REPORT_FILES = ("report.html", "junit.xml", "conformance.json")


@pytest.fixture(scope="module")
def token() -> str:
    return "tp-" + secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def tiny_pacs(token: str) -> Iterator[TinyPacsServer]:
    """A fresh, empty tiny-pacs that accepts only `token`."""
    with TinyPacsServer(tokens=[token]) as server:
        yield server


@pytest.fixture(scope="module")
def suite_run(tiny_pacs: TinyPacsServer, token: str, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """One serial run of every check (tiny-pacs is not safe under concurrent writes)."""
    reports = tmp_path_factory.mktemp("tiny-pacs-run")
    return run_suite(
        reports,
        "--dicomweb-url",
        tiny_pacs.dicomweb_url,
        "--dicomweb-target",
        TINY_PACS_TARGET,
        env={"DICOMWEB_TOKEN": token},
        timeout=300,
    )


def test_every_check_matches_the_declared_outcome(suite_run: SuiteRun, tiny_pacs: TinyPacsServer, token: str) -> None:
    checks = suite_run.conformance["checks"]
    target = resolve_target({"url": tiny_pacs.dicomweb_url, "target": TINY_PACS_TARGET}, {"DICOMWEB_TOKEN": token})
    requirements = {nodeid: check["requirement"] for nodeid, check in checks.items()}
    expected = declared_outcomes(target, requirements, suite_run.server_version)
    mismatches = {
        nodeid: (expected[nodeid], outcome)
        for nodeid, outcome in suite_run.outcomes.items()
        if outcome != expected[nodeid]
    }
    assert mismatches == {}, "(expected, actual) per check"
    assert not {nodeid for nodeid, outcome in suite_run.outcomes.items() if outcome in FAILING_OUTCOMES}
    assert suite_run.returncode == 0, suite_run.output[-5000:]


def test_a_request_without_the_token_is_refused(suite_run: SuiteRun) -> None:
    outcomes = {check["requirement"]: check["outcome"] for check in suite_run.conformance["checks"].values()}
    assert outcomes["DW-AUTH-001"] == Outcome.PASS.value


def test_the_token_appears_in_no_output(suite_run: SuiteRun, token: str) -> None:
    assert token not in suite_run.output
    for name in REPORT_FILES:
        text = (suite_run.reports / name).read_text(errors="replace")
        assert token not in text, f"the bearer token leaked into {name}"
