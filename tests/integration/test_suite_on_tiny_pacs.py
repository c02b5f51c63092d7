"""The whole suite against a real tiny-pacs with bearer tokens: declared outcomes hold, the token stays secret."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from fixtures.conformance import FAILING_OUTCOMES, Outcome
from fixtures.target import resolve_target
from targets.tiny_pacs_server import TinyPacsServer
from tests.integration.suite_runner import ROOT, SuiteRun, declared_outcomes, run_suite

TINY_PACS_TARGET = str(ROOT / "targets" / "tiny-pacs.toml")
REPORT_FILES = ("report.html", "junit.xml", "conformance.json")

# Known suite-data limitation, not a server deviation (so not declared in targets/tiny-pacs.toml): the QIDO
# depth corpus (fixtures/qido_corpus.py) puts several PatientNames (Müller^Jürgen, Smith^John, Smithson^Anna,
# Van Dyke^Dick, Plato) under one scope PatientID on purpose. tiny-pacs keeps one patient record per PatientID
# (PS3.4 C.6.1.1 makes PatientName a patient-level attribute), so every study of that scope answers with the
# first name stored (Müller^Jürgen) and a search by any other name of the corpus finds nothing. These checks
# search such a name; they are excluded from the declared-outcome equality and must keep this outcome, so the
# list cannot rot silently: once the corpus gives each name its own PatientID they pass and this test fails.
SUITE_DATA_LIMITATIONS: dict[str, str] = {
    "suites/qido/test_qido_attributes.py::test_study_matching_key[PatientName-studies-keyword]": Outcome.FAIL,
    "suites/qido/test_qido_matching.py::test_fuzzy_matching_or_warning[PatientName]": Outcome.FAIL,
    "suites/qido/test_qido_matching.py::test_fuzzy_matching_is_never_an_error[false]": Outcome.FAIL,
    "suites/qido/test_qido_matching.py::test_fuzzy_matching_is_never_an_error[true]": Outcome.FAIL,
    "suites/qido/test_qido_encoding.py::test_percent_encoded_value_is_decoded[caret]": Outcome.FAIL,
    "suites/qido/test_qido_encoding.py::test_percent_encoded_value_is_decoded[space-and-caret]": Outcome.FAIL,
    # SHOULD-level requirement (DW-QIDO-180): a failed check of it is NON-STRICT, not FAIL.
    "suites/qido/test_qido_errors.py::test_unsupported_parameter_is_ignored[unknown-includefield]": Outcome.NON_STRICT,
    "suites/qido/test_qido_errors.py::test_unsupported_parameter_is_ignored[unknown-keyword]": Outcome.NON_STRICT,
    "suites/qido/test_qido_errors.py::test_unsupported_parameter_is_ignored[unknown-parameter]": Outcome.NON_STRICT,
}


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
    expected = declared_outcomes(target, {nodeid: check["requirement"] for nodeid, check in checks.items()})
    expected.update(SUITE_DATA_LIMITATIONS)
    mismatches = {
        nodeid: (expected[nodeid], outcome)
        for nodeid, outcome in suite_run.outcomes.items()
        if outcome != expected[nodeid]
    }
    assert mismatches == {}, "(expected, actual) per check"
    assert set(SUITE_DATA_LIMITATIONS) <= set(suite_run.outcomes), "a listed suite-data limitation no longer runs"
    # The suite-data FAILs make the run exit 1; nothing else may.
    failing = {nodeid for nodeid, outcome in suite_run.outcomes.items() if outcome in FAILING_OUTCOMES}
    assert failing <= set(SUITE_DATA_LIMITATIONS)
    assert suite_run.returncode == (1 if failing else 0), suite_run.output[-5000:]


def test_a_request_without_the_token_is_refused(suite_run: SuiteRun) -> None:
    outcomes = {check["requirement"]: check["outcome"] for check in suite_run.conformance["checks"].values()}
    assert outcomes["DW-AUTH-001"] == Outcome.PASS.value


def test_the_token_appears_in_no_output(suite_run: SuiteRun, token: str) -> None:
    assert token not in suite_run.output
    for name in REPORT_FILES:
        text = (suite_run.reports / name).read_text(errors="replace")
        assert token not in text, f"the bearer token leaked into {name}"
