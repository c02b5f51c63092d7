"""Client checks as their own class: the choice of client profiles, and the clients x user actions matrix."""

from __future__ import annotations

from typing import Any

import pytest

from dicomweb_conformance.config.clients import ALL_CLIENTS, ClientSelection, select_clients
from dicomweb_conformance.config.settings import ConfigError
from dicomweb_conformance.reporting.compatibility import cell_text, compatibility, matrix_lines
from dicomweb_conformance.reporting.results import validate
from tests.unit.test_reporting import CHECKS as REPORTING_CHECKS
from tests.unit.test_reporting import document as sample_document

FAILING = {"FAIL", "BLOCKED", "SUITE-ERROR"}
ACTIONS_OF = {"CL-DWC-QIDO": "study-list", "CL-DWC-FRAMES": "view-images", "CL-OHIF-CORS": "browser-access"}


def check(requirement: str, outcome: str, feature: str = "clients.dicomweb-client") -> dict[str, Any]:
    return {"requirement": requirement, "feature": feature, "outcome": outcome}


CHECKS = {
    "suites/clients/t.py::test_search": check("CL-DWC-QIDO", "PASS"),
    "suites/clients/t.py::test_empty": check("CL-DWC-QIDO", "PASS"),
    "suites/clients/t.py::test_frames[a]": check("CL-DWC-FRAMES", "PASS"),
    "suites/clients/t.py::test_frames[b]": check("CL-DWC-FRAMES", "KNOWN-DEVIATION"),
    "suites/clients/t.py::test_frames[c]": check("CL-DWC-FRAMES", "FAIL"),
    "suites/clients/o.py::test_cors": check("CL-OHIF-CORS", "NOT-APPLICABLE", "clients.ohif"),
    "suites/qido/q.py::test_conformance": check("DW-QIDO-001", "FAIL", "qido"),
}


def test_each_cell_takes_the_worst_outcome_of_its_checks_with_counts_and_the_checks_not_passing() -> None:
    clients = compatibility(CHECKS, ACTIONS_OF, ALL_CLIENTS, FAILING)
    row = clients["matrix"]["dicomweb-client"]
    assert row["study-list"] == {"outcome": "PASS", "counts": {"PASS": 2}, "not_working": []}
    assert row["view-images"] == {
        "outcome": "FAIL",
        "counts": {"FAIL": 1, "KNOWN-DEVIATION": 1, "PASS": 1},
        "not_working": ["suites/clients/t.py::test_frames[c]", "suites/clients/t.py::test_frames[b]"],
    }
    assert row["download"] == {"outcome": None, "counts": {}, "not_working": []}
    assert clients["matrix"]["ohif"]["browser-access"]["outcome"] == "NOT-APPLICABLE"
    assert list(clients["matrix"]) == ["dicomweb-client", "ohif", "cornerstone", "slicer"]
    assert list(row) == list(clients["actions"])


def test_a_client_breaks_works_or_was_not_run_and_conformance_checks_stay_out() -> None:
    clients = compatibility(CHECKS, ACTIONS_OF, ClientSelection(("dicomweb-client", "ohif", "slicer"), "x"), FAILING)
    profiles = clients["profiles"]
    assert profiles["dicomweb-client"] == {
        "name": "dicomweb-client",
        "chosen": True,
        "status": "breaks",
        "counts": {"FAIL": 1, "KNOWN-DEVIATION": 1, "PASS": 3},
        "fails_run": 1,
    }
    assert [profiles[c]["status"] for c in ("ohif", "cornerstone", "slicer")] == [
        "not applicable",
        "not run",
        "no checks",
    ]
    assert clients["summary"] == (
        "dicomweb-client BREAKS (1 FAIL, 1 KNOWN-DEVIATION, 3 PASS, 1 fail(s) the run); "
        "OHIF NOT APPLICABLE (1 NOT-APPLICABLE); cornerstone3D NOT RUN; 3D Slicer NO CHECKS"
    )


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [(["PASS", "UNTESTABLE"], "works"), (["PASS", "BLOCKED"], "cannot tell"), (["KNOWN-DEVIATION"], "breaks")],
)
def test_a_client_status(outcomes: list[str], status: str) -> None:
    checks = {f"t::{i}": check("CL-DWC-QIDO", outcome) for i, outcome in enumerate(outcomes)}
    assert compatibility(checks, ACTIONS_OF, ALL_CLIENTS, FAILING)["profiles"]["dicomweb-client"]["status"] == status


def test_the_terminal_matrix_has_a_row_per_client_and_a_column_per_action() -> None:
    clients = compatibility(CHECKS, ACTIONS_OF, ClientSelection(("dicomweb-client",), "x"), FAILING)
    lines = matrix_lines(clients)
    assert lines[0].split() == ["client", *clients["actions"]]
    assert lines[1].split()[:5] == ["dicomweb-client", "PASS", "2", "-", "-"]
    assert "FAIL 2/3" in lines[1]
    assert lines[2].split() == ["OHIF", "not", "run"]
    assert lines[-1].startswith("  (cell: worst outcome")


def test_the_document_with_its_clients_follows_the_schema() -> None:
    built = sample_document(REPORTING_CHECKS)
    built["clients"] = compatibility(CHECKS, ACTIONS_OF, ALL_CLIENTS, FAILING)
    validate(built)


@pytest.mark.parametrize(
    ("cli", "env", "chosen", "source"),
    [
        (None, {}, ("dicomweb-client", "ohif", "cornerstone", "slicer"), "default"),
        ("slicer, OHIF", {}, ("ohif", "slicer"), "--dicomweb-clients"),
        (None, {"DICOMWEB_CLIENTS": "none"}, (), "DICOMWEB_CLIENTS"),
        ("dicomweb-client", {"DICOMWEB_CLIENTS": "none"}, ("dicomweb-client",), "--dicomweb-clients"),
    ],
)
def test_the_client_profiles_chosen(cli: str | None, env: dict[str, str], chosen: tuple[str, ...], source: str) -> None:
    assert select_clients(cli, env) == ClientSelection(chosen, source)


def test_an_unknown_client_is_a_usage_error_naming_the_known_ones() -> None:
    message = (
        r"invalid client profile\(s\) horos \(from DICOMWEB_CLIENTS\): expected a comma-separated list of "
        r"dicomweb-client, ohif, cornerstone, slicer, or none"
    )
    with pytest.raises(ConfigError, match=message):
        select_clients(None, {"DICOMWEB_CLIENTS": "ohif,horos"})


def test_the_page_shows_the_client_verdict_and_a_failing_cell_opens_its_check() -> None:
    from dicomweb_conformance.reporting.html import render
    from tests.unit.test_reporting import document

    checks = {nodeid: {**entry, "level": "SHALL"} for nodeid, entry in CHECKS.items()}
    built = document(checks)
    built["clients"] = compatibility(checks, ACTIONS_OF, ALL_CLIENTS, FAILING)
    validate(built)
    page = render(built, {}, [], gate_passed=True)
    anchor = sorted(checks).index("suites/clients/t.py::test_frames[c]")
    assert f'<a class="o o-FAIL" href="#c-{anchor}" data-open="c-{anchor}">FAIL</a> 2/3' in page
    assert f'<details class="check" id="c-{anchor}" data-outcome="FAIL">' in page
    assert 'class="banner bad">Client compatibility: dicomweb-client BREAKS' in page
    assert '<th title="browser-access">reach the server' in page


def test_a_cell_says_how_many_of_its_checks_did_not_apply() -> None:
    checks = {"t::a": check("CL-DWC-QIDO", "PASS"), "t::b": check("CL-DWC-QIDO", "NOT-APPLICABLE")}
    cell = compatibility(checks, ACTIONS_OF, ALL_CLIENTS, FAILING)["matrix"]["dicomweb-client"]["study-list"]
    assert cell_text(cell) == "PASS 2 (1 N/A)"
