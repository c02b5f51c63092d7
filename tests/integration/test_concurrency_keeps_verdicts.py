"""Requests sent at once give the verdicts of requests sent one after another: the default run on Orthanc 1.10
with --dicomweb-concurrency 1, with the default, and with four xdist workers (-n 4: checks side by side, each
worker storing and deleting while the others read), compared per test id, each run leaving nothing behind."""

from __future__ import annotations

from pathlib import Path

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.integration.suite_runner import ROOT, orthanc_instances, run_suite

ORTHANC_TARGET = str(ROOT / "targets" / "orthanc.toml")


def test_concurrent_run_has_the_serial_runs_outcomes(tmp_path: Path) -> None:
    outcomes = {}
    with OrthancServer(generation="1.10") as orthanc:
        for name, options in (("serial", ["--dicomweb-concurrency", "1"]), ("default", []), ("xdist", ["-n", "4"])):
            reports = tmp_path / name
            run = run_suite(
                reports, "--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", ORTHANC_TARGET, *options
            )
            assert run.returncode == 0, run.output[-5000:]
            assert orthanc_instances(orthanc.rest_url) == [], f"the {name} run left instances behind"
            outcomes[name] = run.outcomes
    for name in ("default", "xdist"):
        assert outcomes[name].keys() == outcomes["serial"].keys(), name
        differences = {
            nodeid: (outcome, outcomes[name][nodeid])
            for nodeid, outcome in outcomes["serial"].items()
            if outcomes[name][nodeid] != outcome
        }
        assert differences == {}, f"(serial, {name}) per test id"
