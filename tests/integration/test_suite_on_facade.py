"""The whole suite against the Azure facade over Orthanc, azure profile, on v2 and on v1.

- v2 runs with the azure auth method end to end: the test credential (tests/doubles/facade/credential.py)
  issues tokens that live 302 s, two more than the suite's refresh margin, so the suite renews them
  every second or two; the facade accepts only its signed, unexpired tokens for the DICOM audience.
- v1 runs with a fixed bearer token.
Each run's outcomes must be what targets/azure-facade.toml declares (API-version applicability
included), nothing the run stored may stay in Orthanc, and no token may appear in any output.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dicomweb_conformance.config.catalog import Outcome
from dicomweb_conformance.config.target import AZURE_DEFAULT_SCOPE, resolve_target
from dicomweb_conformance.plugin.junit_counts import NOT_EXECUTED
from dicomweb_conformance.plugin.junit_counts import outcomes as junit_outcomes
from dicomweb_conformance.transport.auth import REFRESH_MARGIN_SECONDS
from tests.doubles.facade.auth import SignedTokens
from tests.doubles.facade.server import facade_over_fresh_orthanc
from tests.doubles.facade.tokens import DICOM_AUDIENCE, mint
from tests.integration.suite_runner import ROOT, SuiteRun, declared_outcomes, orthanc_instances, start_suite

FACADE_TARGET = str(ROOT / "targets" / "azure-facade.toml")
SECRET = "integration-test-credential-secret"
TOKEN_LIFETIME = int(REFRESH_MARGIN_SECONDS) + 2
BEARER_TOKEN = "integration-bearer-token"
REFUSED_AS_EXPIRED = "integration-expired-bearer-token"  # the bearer-mode facade refuses it like any unknown token
RUN_TIMEOUT = 900
# The requirements of suites/catalog/azure.toml: delete, change feed, metadata ETags, auth, versions.
AZURE_AREAS = re.compile(r"^AZ-(?:DEL-1\d\d|CF-1\d\d|META-0[5-9]\d|AUTH-0\d\d|VER-0\d\d)$")


@dataclass
class FacadeRun:
    run: SuiteRun
    url: str
    left_in_orthanc: list[str]
    # Kept out of repr: an assertion message must not print a token either.
    accepted_tokens: frozenset[str] = field(repr=False)
    expired_token: str = field(repr=False)
    credential_log: Path | None = None

    @property
    def issued(self) -> list[dict[str, Any]]:
        assert self.credential_log is not None
        return [json.loads(line) for line in self.credential_log.read_text().splitlines()]

    def outputs(self) -> dict[str, str]:
        """Everything the run wrote or printed: reports, JUnit, JSON, ledgers, the terminal, the credential log."""
        files = [path for path in self.run.reports.rglob("*") if path.is_file()]
        texts = {str(path): path.read_text(errors="replace") for path in files}
        return {**texts, "terminal output": self.run.output}


def _wait(process: subprocess.Popen[str], reports: Path) -> SuiteRun:
    output, _ = process.communicate(timeout=RUN_TIMEOUT)
    return SuiteRun(process.returncode, output, reports)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, FacadeRun]]:
    """Both runs at once (one per core), each on its own Orthanc and facade."""
    v2_reports, v1_reports = tmp_path_factory.mktemp("facade-v2"), tmp_path_factory.mktemp("facade-v1")
    credential_log = v2_reports / "credential.jsonl"
    expired = mint(SECRET, DICOM_AUDIENCE, int(time.time()) - 60)
    with ExitStack() as stack:
        signed = stack.enter_context(facade_over_fresh_orthanc(token_secret=SECRET))
        bearer = stack.enter_context(facade_over_fresh_orthanc(tokens={BEARER_TOKEN}))
        azure_env = {
            "DICOMWEB_AUTH": "azure",
            "DICOMWEB_AZURE_CREDENTIAL": "tests.doubles.facade.credential:factory",
            "FACADE_TOKEN_SECRET": SECRET,
            "FACADE_TOKEN_LIFETIME": str(TOKEN_LIFETIME),
            "FACADE_TOKEN_LOG": str(credential_log),
            "DICOMWEB_EXPIRED_TOKEN": expired,
            # targets/azure-facade.toml names ${DICOMWEB_TOKEN}; the azure method never sends it.
            "DICOMWEB_TOKEN": "unused-with-the-azure-method",
        }
        bearer_env = {"DICOMWEB_TOKEN": BEARER_TOKEN, "DICOMWEB_EXPIRED_TOKEN": REFUSED_AS_EXPIRED}
        target = ("--dicomweb-target", FACADE_TARGET)
        v2 = start_suite(v2_reports, "--dicomweb-url", signed.url("v2"), *target, env=azure_env)
        v1 = start_suite(v1_reports, "--dicomweb-url", bearer.url("v1"), *target, env=bearer_env)
        v2_run, v1_run = _wait(v2, v2_reports), _wait(v1, v1_reports)
        assert isinstance(signed.verifier, SignedTokens)
        yield {
            "v2": FacadeRun(
                v2_run,
                signed.url("v2"),
                orthanc_instances(signed.orthanc_rest_url),
                signed.verifier.accepted,
                expired,
                credential_log,
            ),
            "v1": FacadeRun(
                v1_run,
                bearer.url("v1"),
                orthanc_instances(bearer.orthanc_rest_url),
                frozenset(),
                REFUSED_AS_EXPIRED,
                None,
            ),
        }


def declared(run: FacadeRun) -> dict[str, str]:
    """What targets/azure-facade.toml declares for each check, under the run's API version."""
    target = resolve_target({"url": run.url, "target": FACADE_TARGET}, {"DICOMWEB_TOKEN": "unused"})
    requirements = {nodeid: check["requirement"] for nodeid, check in run.run.conformance["checks"].items()}
    return declared_outcomes(target, requirements, run.run.server_version)


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_every_check_matches_the_declared_outcome(runs: dict[str, FacadeRun], version: str) -> None:
    run = runs[version]
    expected = declared(run)
    mismatches = {
        node: (expected[node], outcome) for node, outcome in run.run.outcomes.items() if outcome != expected[node]
    }
    assert mismatches == {}, "(declared, actual) per check"
    assert run.run.returncode == 0, run.run.output[-5000:]
    testcases = list(ET.parse(run.run.reports / "junit.xml").getroot().iter("testcase"))
    assert len(testcases) == len(expected), "every collected check has an outcome"


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_the_azure_checks_execute(runs: dict[str, FacadeRun], version: str) -> None:
    """The delete, change-feed, ETag and auth checks run for real: well over 60 of them pass on each version."""
    checks = runs[version].run.conformance["checks"]
    passed = [
        node
        for node, check in checks.items()
        if check["outcome"] == Outcome.PASS.value and AZURE_AREAS.match(check["requirement"])
    ]
    assert len(passed) >= 60, passed


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_at_least_300_checks_execute(runs: dict[str, FacadeRun], version: str) -> None:
    """Issue 4's bar, counted from the JUnit file: 300 checks reach a verdict on the facade (azure profile)."""
    counts = junit_outcomes(runs[version].run.reports / "junit.xml")
    executed = sum(n for outcome, n in counts.items() if outcome not in NOT_EXECUTED)
    print(f"facade {version}: {executed} checks executed ({dict(counts)})")
    assert executed >= 300, counts


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_nothing_is_left_in_orthanc(runs: dict[str, FacadeRun], version: str) -> None:
    assert runs[version].left_in_orthanc == [], "the run removed everything it stored"


def test_the_credential_is_asked_for_the_dicom_scope_only(runs: dict[str, FacadeRun]) -> None:
    issued = runs["v2"].issued
    assert issued, "the suite never asked the credential for a token"
    assert {tuple(record["scopes"]) for record in issued} == {(AZURE_DEFAULT_SCOPE,)}
    # The facade accepts only tokens for the DICOM audience, and it saw every token the credential issued.
    assert len(runs["v2"].accepted_tokens) == len(issued)


def test_the_token_is_renewed_when_it_nears_expiry(runs: dict[str, FacadeRun]) -> None:
    """Tokens live 302 s and are renewed 300 s before expiry: a run of many seconds needs several, each
    fetched only once the previous one was within the margin and before it expired."""
    issued = runs["v2"].issued
    assert len(issued) >= 3, f"only {len(issued)} token(s) issued: no renewal during the run"
    for previous, following in itertools.pairwise(issued):
        assert following["issued_at"] >= previous["expires_on"] - REFRESH_MARGIN_SECONDS, "renewed too early"
        assert following["issued_at"] < previous["expires_on"], "renewed only after expiry"


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_no_token_text_appears_in_any_output(runs: dict[str, FacadeRun], version: str) -> None:
    run = runs[version]
    tokens = {*run.accepted_tokens, run.expired_token} if version == "v2" else {BEARER_TOKEN, REFUSED_AS_EXPIRED}
    # The signature alone is secret too: no part after the payload may leak either.
    fragments = tokens | {token.rsplit(".", 1)[-1] for token in tokens if "." in token}
    outputs = run.outputs()
    assert len(outputs) >= 4, sorted(outputs)
    # Name where a token leaked, showing only its first characters: this test's own output stays clean too.
    leaks = {name: sorted(f"{f[:6]}..." for f in fragments if f in text) for name, text in outputs.items()}
    assert {name: found for name, found in leaks.items() if found} == {}
