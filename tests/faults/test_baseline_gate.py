"""Regression-only gating against a real Orthanc, through the fault proxy.

A first run writes a baseline; a second run with it exits 0, even where the server fails checks (the baseline
already has them); a third run through a proxy that breaks one behaviour (rendered images answer 500) exits
non-zero, and its terminal, conformance.json and conformance page name exactly the checks that got worse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from dicomweb_conformance.reporting.results import validate
from tests.faults.proxy import FaultProxy
from tests.faults.rules import ProxyRule, answer
from tests.faults.test_whole_run_verdicts import WholeRun, run_whole_suite

STRICT_TARGET = Path(__file__).with_name("orthanc-strict.toml")  # no deviations: Orthanc's failures are FAILs
RENDERED_500 = ProxyRule("rendered-500", "rendered images answer 500", "GET", r"/rendered$", answer(500))


@pytest.fixture(scope="module")
def proxy() -> Iterator[FaultProxy]:
    with OrthancServer() as orthanc:
        proxy = FaultProxy(orthanc.rest_url).start()
        try:
            yield proxy
        finally:
            proxy.stop()


def gated_run(proxy: FaultProxy, outputs: Path, baseline: Path, *extra: str) -> WholeRun:
    return run_whole_suite(
        proxy.url + "/dicom-web",
        outputs,
        "--dicomweb-target",
        str(STRICT_TARGET),
        f"--dicomweb-baseline={baseline}",
        *extra,
    )


def outcomes(run: WholeRun) -> dict[str, str]:
    checks = run.conformance["checks"]
    assert isinstance(checks, dict)
    return {nodeid: check["outcome"] for nodeid, check in checks.items()}


def statuses(run: WholeRun) -> dict[str, int]:
    checks = run.conformance["checks"]
    assert isinstance(checks, dict)
    return {nodeid: check["status"] or 0 for nodeid, check in checks.items()}


def test_a_gate_fails_only_on_regressions_and_names_them(proxy: FaultProxy, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    proxy.switch(())
    first = gated_run(proxy, tmp_path / "first", baseline, "--dicomweb-baseline-update")
    assert first.returncode == 0, first.output[-4000:]
    assert f"baseline written: {baseline}" in first.output
    recorded = json.loads(baseline.read_text())
    assert recorded["format"] == "dicomweb-conformance-baseline/1"
    assert {check["outcome"] for check in recorded["checks"].values()} >= {"FAIL", "PASS"}, "Orthanc fails checks"

    second = gated_run(proxy, tmp_path / "second", baseline)
    assert second.returncode == 0, second.output[-4000:]
    assert "GATE PASSED against" in second.output
    assert outcomes(second) == outcomes(first), "the gate changes no verdict"
    assert str(second.conformance["verdict"]).startswith("NOT CONFORMANT"), "the verdict stays honest"
    assert "BASELINE: FAIL as in the baseline" in (tmp_path / "second" / "junit.xml").read_text()

    proxy.switch((RENDERED_500,))
    third = gated_run(proxy, tmp_path / "third", baseline)
    assert third.returncode != 0, third.output[-4000:]
    before, after = statuses(second), statuses(third)
    worse = {
        nodeid
        for nodeid, outcome in outcomes(third).items()
        if (outcome != outcomes(second)[nodeid] and outcome != "PASS")
        or (after[nodeid] >= 500 and before[nodeid] < 500)
    }
    assert worse, "the fault broke checks that passed"
    assert all("rendered" in nodeid for nodeid in worse), worse
    gate = third.conformance["baseline"]
    assert isinstance(gate, dict)
    assert {change["check"] for change in gate["regressions"]} == worse
    named = set(re.findall(r"^  REGRESSION (\S+): ", third.output, re.MULTILINE))
    assert named == worse, third.output[-4000:]
    page = (tmp_path / "third" / "conformance.html").read_text()
    assert "GATE FAILED against" in page
    assert all(nodeid in page for nodeid in worse)


def test_an_expired_baseline_entry_fails_the_run(proxy: FaultProxy, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    proxy.switch(())
    first = gated_run(proxy, tmp_path / "first", baseline, "--dicomweb-baseline-update", "-k", "rendered")
    assert first.returncode == 0, first.output[-4000:]
    recorded = json.loads(baseline.read_text())
    failing = [nodeid for nodeid, check in recorded["checks"].items() if check["outcome"] == "FAIL"]
    assert failing, "Orthanc fails a rendered check without its deviations"
    recorded["checks"][failing[0]] |= {"reason": "vendor bug", "ticket": "PACS-1", "expires": "2020-01-01"}
    baseline.write_text(json.dumps(recorded))
    second = gated_run(proxy, tmp_path / "second", baseline, "-k", "rendered")
    assert second.returncode != 0, second.output[-4000:]
    assert "baseline entry expired on 2020-01-01 (PACS-1): vendor bug" in second.output


def test_every_conformance_json_follows_its_schema(proxy: FaultProxy, tmp_path: Path) -> None:
    proxy.switch(())
    run = run_whole_suite(proxy.url + "/dicom-web", tmp_path, "-k", "tutorial")
    validate(run.conformance)
    run.conformance["totals"] = {"GREEN": 1}
    with pytest.raises(jsonschema.ValidationError):
        validate(run.conformance)
