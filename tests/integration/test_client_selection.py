"""--dicomweb-clients / DICOMWEB_CLIENTS: the checks of a client profile not chosen do not run, the summary says which
profiles ran, and an unknown name is a usage error naming the known ones."""

from __future__ import annotations

from pathlib import Path

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.integration.suite_runner import ROOT, orthanc_instances, run_suite

ORTHANC_TARGET = str(ROOT / "targets" / "orthanc.toml")
STRICT_TARGET = str(ROOT / "tests" / "faults" / "orthanc-strict.toml")  # no deviations declared
SOME_CHECKS = ("-k", "test_dwc_search_accept_list or test_search_studies_by_study_uid")


def test_no_client_profile_runs_only_the_conformance_checks(orthanc: OrthancServer, tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", ORTHANC_TARGET,
                    *SOME_CHECKS, env={"DICOMWEB_CLIENTS": "none"})  # fmt: skip
    assert run.returncode == 0, run.output
    assert all(not nodeid.startswith("suites/clients/") for nodeid in run.outcomes), run.outcomes
    assert run.outcomes, "the conformance checks ran"
    clients = run.conformance["clients"]
    assert (clients["chosen"], clients["chosen_from"]) == ([], "DICOMWEB_CLIENTS")
    assert {profile["status"] for profile in clients["profiles"].values()} == {"not run"}
    assert "client compatibility: dicomweb-client NOT RUN; OHIF NOT RUN" in run.output
    assert orthanc_instances(orthanc.rest_url) == []


def test_a_chosen_client_profile_runs_beside_the_conformance_checks(orthanc: OrthancServer, tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", ORTHANC_TARGET,
                    *SOME_CHECKS, "--dicomweb-clients", "dicomweb-client")  # fmt: skip
    assert run.returncode == 0, run.output
    assert any(nodeid.startswith("suites/clients/") for nodeid in run.outcomes), run.outcomes
    profiles = run.conformance["clients"]["profiles"]
    assert profiles["dicomweb-client"]["status"] == "works"
    assert profiles["ohif"]["status"] == "not run"
    assert run.conformance["verdict"].startswith("CONFORMANT: ")


def test_an_unknown_client_is_a_usage_error(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--dicomweb-url", "http://127.0.0.1:9/dicom-web", "--dicomweb-clients", "ohif,horos")
    assert run.returncode == 4, run.output
    assert (
        "invalid client profile(s) horos (from --dicomweb-clients): expected a comma-separated list of "
        "dicomweb-client, ohif, cornerstone, slicer, or none"
    ) in run.output


def test_a_client_failure_fails_the_run_though_the_ps318_verdict_is_conformant(
    orthanc: OrthancServer, tmp_path: Path
) -> None:
    """Orthanc 1.10 answers dicomweb-client's default frames request 400; without the deviation that is a client
    FAIL: the PS3.18 verdict stays CONFORMANT, the summary says why the run fails all the same."""
    run = run_suite(tmp_path, "--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", STRICT_TARGET,
                    "-k", "test_search_studies_by_study_uid or test_dwc_frames_default[sc8_explicit]")  # fmt: skip
    assert run.returncode == 1, run.output
    assert run.conformance["verdict"].startswith("CONFORMANT: "), run.conformance["verdict"]
    assert run.conformance["clients"]["profiles"]["dicomweb-client"]["status"] == "breaks"
    assert "the run fails all the same: client checks 1 FAIL (client compatibility, above)" in run.output
    assert orthanc_instances(orthanc.rest_url) == []
