"""reporting/results.py and reporting/html.py: the documented shape of conformance.json, and the page built from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jsonschema
import pytest

from dicomweb_conformance.reporting.html import (
    DeviationRow,
    exchange_excerpt,
    render,
    requirement_checks,
    shown_message,
)
from dicomweb_conformance.reporting.results import (
    RequirementFacts,
    RunFacts,
    conformance_document,
    failure_kind,
    feature_rows,
    validate,
    without_credentials,
)
from dicomweb_conformance.reporting.statement import markdown

EXCHANGE = "\n".join(
    [
        "> GET http://127.0.0.1:1/dicom-web/studies/1",
        "> Accept: application/dicom",
        "> body: (empty)",
        "< 500 (3 ms)",
        "< body: oops",
        "reproduce: curl -sS -X GET 'http://127.0.0.1:1/dicom-web/studies/1'",
    ]
)
CATALOG = {
    "DW-A-001": RequirementFacts("SHALL", "PS3.18 8.1", "Answers 200.", "wado.study"),
    "DW-A-002": RequirementFacts("SHOULD", "PS3.18 8.2", "Answers quickly.", "wado.study"),
    "DW-B-001": RequirementFacts("SHALL", "PS3.18 10.6", "Finds the study.", "qido.study"),
}


def facts(url: str = "https://user:secret@pacs.example.org:8443/dicom-web") -> RunFacts:
    server = {"name": "Orthanc", "version": "1.10.1", "source": "http://127.0.0.1/system"}
    return RunFacts("run1", "0.1.0", datetime(2026, 12, 5, 12), 12.5, "t", url, "standard", "basic", None, server)


def document(checks: dict[str, dict[str, Any]], baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    return conformance_document(
        facts(),
        checks,
        CATALOG,
        verdict="NOT CONFORMANT: 1 FAIL",
        conformant=False,
        setup_failures={},
        server_down=None,
        baseline=baseline,
    )


CHECKS: dict[str, dict[str, Any]] = {
    "suites/a.py::test_ok": {"outcome": "PASS", "requirement": "DW-A-001", "feature": "wado.study", "level": "SHALL"},
    "suites/a.py::test_bad": {
        "outcome": "FAIL",
        "requirement": "DW-A-001",
        "feature": "wado.study",
        "level": "SHALL",
        "message": "[DW-A-001] wrong status\n  expected: 200\n  actual:   500",
        "status": 500,
        "failure": "status 500",
        "duration_s": 0.25,
    },
    "suites/a.py::test_slow": {
        "outcome": "NON-STRICT",
        "requirement": "DW-A-002",
        "feature": "wado.study",
        "level": "SHOULD",
    },
    "suites/b.py::test_na": {
        "outcome": "NOT-APPLICABLE",
        "requirement": "DW-B-001",
        "feature": "qido.study",
        "level": "SHALL",
        "message": "Skipped: NOT-APPLICABLE: t does not claim capability 'qido'",
    },
}


def test_the_document_follows_its_schema_and_never_shows_credentials() -> None:
    built = document(CHECKS)
    validate(built)
    assert built["base_url"] == "https://pacs.example.org:8443/dicom-web"
    assert built["totals"] == {"FAIL": 1, "NON-STRICT": 1, "NOT-APPLICABLE": 1, "PASS": 1}
    assert built["requirements"]["DW-A-001"] == {
        "level": "SHALL",
        "clause": "PS3.18 8.1",
        "text": "Answers 200.",
        "feature": "wado.study",
        "outcome": "FAIL",
        "outcomes": {"FAIL": 1, "PASS": 1},
    }
    assert built["checks"]["suites/a.py::test_bad"]["failure_kind"] == "server-error"
    assert built["checks"]["suites/a.py::test_bad"]["duration_s"] == 0.25


def test_a_document_departing_from_the_schema_is_refused() -> None:
    built = document(CHECKS)
    built["checks"]["suites/a.py::test_ok"]["outcome"] = "GREEN"
    with pytest.raises(jsonschema.ValidationError, match="GREEN"):
        validate(built)
    del built["verdict"]
    with pytest.raises(jsonschema.ValidationError):
        validate(built)


@pytest.mark.parametrize(
    ("check", "kind"),
    [
        ({"outcome": "PASS"}, None),
        ({"outcome": "FAIL", "data_loss": True, "status": 200}, "data-loss"),
        ({"outcome": "FAIL", "deviation_changed": "declared 400, got 500", "status": 500}, "deviation-changed"),
        ({"outcome": "FAIL", "status": 503}, "server-error"),
        ({"outcome": "FAIL", "status": None, "failure": "no answer"}, "no-answer"),
        ({"outcome": "FAIL", "status": 200}, "non-conformant"),
        ({"outcome": "KNOWN-DEVIATION"}, "declared-deviation"),
        ({"outcome": "BLOCKED"}, "blocked"),
    ],
)
def test_failure_kind(check: dict[str, Any], kind: str | None) -> None:
    assert failure_kind(check) == kind


def test_without_credentials_keeps_everything_else() -> None:
    assert without_credentials("http://127.0.0.1:8042/dicom-web") == "http://127.0.0.1:8042/dicom-web"
    assert without_credentials("https://a:b@h/x?q=1") == "https://h/x?q=1"


def test_a_feature_row_takes_the_worst_shall_and_shows_non_strict() -> None:
    rows = {row["name"]: row for row in feature_rows(document(CHECKS)["checks"])}
    assert rows["wado.study"]["outcome"] == "FAIL"
    assert rows["wado.study"]["counts"] == {"FAIL": 1, "NON-STRICT": 1, "PASS": 1}
    assert rows["qido.study"]["outcome"] == "NOT-APPLICABLE"
    passing = {k: v for k, v in CHECKS.items() if v["outcome"] != "FAIL"}
    assert {row["name"]: row["outcome"] for row in feature_rows(document(passing)["checks"])}[
        "wado.study"
    ] == "NON-STRICT"


def test_exchange_excerpt_keeps_the_failing_exchanges_and_only_a_line_of_a_pass() -> None:
    section = "3 exchanges, last 3 shown\n\n" + "\n\n".join([EXCHANGE.replace("500", str(s)) for s in (200, 201, 500)])
    failing = exchange_excerpt(section, "FAIL")
    assert failing.startswith("3 exchanges, the last 2:")
    assert "< 500 (3 ms)" in failing
    assert "< 200 (3 ms)" not in failing
    passing = exchange_excerpt(section, "PASS")
    assert passing.splitlines() == [
        "3 exchange(s); the last:",
        "> GET http://127.0.0.1:1/dicom-web/studies/1",
        "< 500 (3 ms)",
    ]
    # A declared failure's message names its exchange and the curl line: the page keeps only the status lines.
    assert exchange_excerpt(section, "KNOWN-DEVIATION") == "\n".join(passing.splitlines())
    assert exchange_excerpt(section, "PASS", "http://127.0.0.1:1/dicom-web").splitlines()[1] == "> GET {base}/studies/1"
    assert "{base}" not in exchange_excerpt(section, "FAIL", "http://127.0.0.1:1/dicom-web"), "curl lines stay whole"
    long_uid = section.replace("/studies/1", "/studies/2.25.108638121454180538686253192078785586532/series/1.2.3")
    assert exchange_excerpt(long_uid, "PASS").splitlines()[1].endswith("/studies/2.25.10863...586532/series/1.2.3")
    assert exchange_excerpt("", "FAIL") == ""


def test_the_page_shows_header_verdict_matrix_and_drill_down_escaped() -> None:
    checks = {**CHECKS}
    checks["suites/a.py::test_bad"] = {**CHECKS["suites/a.py::test_bad"], "message": "<script>alert(1)</script>"}
    baseline = {
        "file": "baseline.json",
        "regressions": [{"check": "suites/a.py::test_bad", "before": "PASS", "after": "FAIL", "why": "worse"}],
        "improvements": [],
        "expired": [],
        "absent": [],
    }
    page = render(
        document(checks, baseline),
        {"suites/a.py::test_bad": EXCHANGE},
        [DeviationRow("DW-A-002", "status 200", "1.10", "answers slowly")],
        gate_passed=False,
    )
    assert "<title>DICOMweb conformance: Orthanc 1.10.1</title>" in page
    assert "NOT CONFORMANT: 1 FAIL" in page
    assert "GATE FAILED against baseline.json: 1 regression(s)" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "reproduce: curl -sS -X GET" in page
    assert "user:secret" not in page
    assert "t does not claim capability &#39;qido&#39;" in page
    assert "answers slowly" in page
    assert 'id="f-wado.study"' in page


def test_the_statement_claims_only_what_checks_showed() -> None:
    text = markdown(document(CHECKS))
    assert "# Conformance statement of Orthanc 1.10.1, derived from run run1" in text
    wado = text.split("### wado.study")[1]
    shown, departs = wado.split("Departs from the standard:")
    # DW-A-001 has a passing and a failing check: it departs, and is not claimed as shown.
    assert "DW-A-001" not in shown
    assert "- Answers 200. (DW-A-001, SHALL, PS3.18 8.1). **1 of 2 check(s) FAIL; answered 500.**" in departs
    assert "- Answers quickly. (DW-A-002, SHOULD, PS3.18 8.2). **1 of 1 check(s) NON-STRICT.**" in departs
    assert "Not shown (not applicable, untestable or blocked): DW-B-001" in text
    passing = {**CHECKS, "suites/a.py::test_bad": {**CHECKS["suites/a.py::test_bad"], "outcome": "PASS"}}
    shown_now = markdown(document(passing)).split("### wado.study")[1].split("Departs")[0]
    assert "- Answers 200. (DW-A-001, SHALL, PS3.18 8.1). Checks: `suites/a.py::test_bad`; `suites/a.py::test_ok`" in (
        shown_now
    )


def test_a_requirement_s_checks_are_grouped_by_outcome_and_say_what_they_share_once() -> None:
    checks = {
        "suites/c.py::test_a[1]": {"outcome": "PASS"},
        "suites/c.py::test_a[2]": {"outcome": "KNOWN-DEVIATION", "deviation_reason": "answers 400"},
        "suites/c.py::test_a[3]": {"outcome": "KNOWN-DEVIATION", "deviation_reason": "answers 400"},
        "suites/c.py::test_b[1]": {"outcome": "NOT-APPLICABLE", "message": "Skipped: NOT-APPLICABLE: no frames"},
        "suites/c.py::test_b[2]": {"outcome": "NOT-APPLICABLE", "message": "NOT-APPLICABLE: no rendered"},
    }
    anchors = {nodeid: str(index) for index, nodeid in enumerate(sorted(checks))}
    view = requirement_checks(sorted(checks), checks, anchors)
    assert view.file == "suites/c.py"
    assert [(g.outcome, g.compact, g.shared, [r.name for r in g.rows]) for g in view.groups] == [
        ("KNOWN-DEVIATION", False, "answers 400", ["test_a[2]", "test_a[3]"]),
        ("PASS", True, "", ["test_a[1]"]),
        ("NOT-APPLICABLE", True, "", ["test_b[1]", "test_b[2]"]),
    ]
    assert [row.note for row in view.groups[2].rows] == ["no frames", "no rendered"]
    mixed = requirement_checks(["suites/c.py::test_a[1]", "suites/d.py::test_x"], {**checks, "suites/d.py::test_x":
                               {"outcome": "PASS"}}, {**anchors, "suites/d.py::test_x": "9"})  # fmt: skip
    assert mixed.file == ""
    assert [row.name for row in mixed.groups[0].rows] == ["suites/c.py::test_a[1]", "suites/d.py::test_x"]


def test_the_page_keeps_every_check_reachable_and_no_exchange_of_a_pass() -> None:
    page = render(document(CHECKS), {"suites/a.py::test_ok": EXCHANGE, "suites/a.py::test_bad": EXCHANGE}, [],
                  gate_passed=True)  # fmt: skip
    for index in range(len(CHECKS)):
        assert f'id="c-{index}"' in page
    assert page.count("reproduce: curl -sS -X GET") == 1, "the failing check's exchange only"
    assert '<div class="checks" data-outcome="PASS">' in page
    assert "Answers 200. <span" in page


def test_shown_message_shortens_only_a_declared_failure_s_exchange_line() -> None:
    base = "http://127.0.0.1:1/dicom-web"
    url = f"{base}/studies/2.25.108638121454180538686253192078785586532"
    message = f"[X] bad\n  exchange: GET {url} -> 400\n  reproduce: curl -sS -X GET {url}"
    declared = shown_message({"outcome": "KNOWN-DEVIATION", "message": message}, base)
    assert declared.splitlines()[1] == "  exchange: GET {base}/studies/2.25.10863...586532 -> 400"
    assert declared.splitlines()[2] == f"  reproduce: curl -sS -X GET {url}"
    assert shown_message({"outcome": "FAIL", "message": message}, base) == message
