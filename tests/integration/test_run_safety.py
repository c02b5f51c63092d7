"""Runs on a shared server: parallel runs, interrupted runs, the sweep, unreachable targets, credentials."""

from __future__ import annotations

import base64
import signal
import time
from pathlib import Path

import pytest
import requests

from dicomweb_conformance.dicom.samples import synthetic_instance
from dicomweb_conformance.launchers.local_server import free_port
from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.integration.suite_runner import ROOT, orthanc_instances, run_suite, start_suite

ORTHANC_TARGET = str(ROOT / "targets" / "orthanc.toml")


def store_bystander(orthanc: OrthancServer) -> str:
    """Data someone else stored on the server (Orthanc's own API): the suite must never delete it."""
    instance = synthetic_instance("bystander", patient_name="Someone^Else")
    response = requests.post(f"{orthanc.rest_url}/instances", data=instance.data, timeout=10)
    response.raise_for_status()
    return str(response.json()["ID"])


def test_two_runs_at_once_pass_and_remove_only_their_own_data(orthanc: OrthancServer, tmp_path: Path) -> None:
    bystander = store_bystander(orthanc)
    args = ("--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", ORTHANC_TARGET)
    runs = [start_suite(tmp_path / name, *args) for name in ("first", "second")]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert orthanc_instances(orthanc.rest_url) == [bystander]


def test_an_unreachable_target_is_one_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    run = run_suite(tmp_path, "--dicomweb-url", url, timeout=120)
    assert run.returncode == 4
    assert f"cannot reach the DICOMweb target {url} (from --dicomweb-url)" in run.output
    assert "Traceback" not in run.output


def wait_for_stored_instances(ledger_dir: Path, timeout: float = 60) -> None:
    """Block until a ledger in `ledger_dir` records an instance (the run is storing data)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(path.read_text().count("\n") > 1 for path in ledger_dir.glob("*.jsonl")):
            return
        time.sleep(0.005)
    raise AssertionError("the run never stored anything")


# Seconds after the run's first store: inside a check, between checks, in a corpus set-up, in its reporting.
INTERRUPT_MOMENTS = (0.0, 0.05, 0.2, 0.5, 1.0, 1.5, 2.5, 3.5)


@pytest.mark.parametrize("delay", INTERRUPT_MOMENTS, ids=lambda delay: f"{delay}s")
def test_ctrl_c_still_cleans_up(orthanc: OrthancServer, tmp_path: Path, delay: float) -> None:
    """Whatever the moment, Ctrl-C ends the run with exit code 2, a line that says so, and a clean server."""
    args = ("--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", ORTHANC_TARGET)
    run = start_suite(tmp_path, *args)
    wait_for_stored_instances(tmp_path / "ledger")
    time.sleep(delay)
    interrupted = run.poll() is None  # on a very fast machine the run may be over: then it must simply be clean
    if interrupted:
        run.send_signal(signal.SIGINT)
    output = run.communicate(timeout=120)[0]
    assert "Traceback" not in output, output[-3000:]
    if not interrupted or "the run had already finished" in output:
        assert run.returncode == 0, output[-3000:]
        assert "verdict: CONFORMANT" in output
    else:
        assert run.returncode == 2, output[-3000:]  # pytest's exit code for an interrupted session
        assert "Ctrl-C" in output or "KeyboardInterrupt" in output
    assert orthanc_instances(orthanc.rest_url) == []
    assert list((tmp_path / "ledger").glob("*.jsonl")) == []


def test_a_crashed_run_leaves_a_ledger_that_the_sweep_finishes(orthanc: OrthancServer, tmp_path: Path) -> None:
    args = ("--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", ORTHANC_TARGET)
    run = start_suite(tmp_path, *args)
    wait_for_stored_instances(tmp_path / "ledger")
    run.send_signal(signal.SIGSTOP)
    run.kill()
    run.wait(timeout=30)
    time.sleep(0.5)  # let Orthanc finish any store the killed run had in flight
    assert list((tmp_path / "ledger").glob("*.jsonl")), "the crash left its ledger"
    bystander = store_bystander(orthanc)
    sweep = run_suite(tmp_path, *args, "--dicomweb-sweep")
    assert sweep.returncode == 0, sweep.output
    assert "sweep: 1 interrupted run(s)" in sweep.output
    assert orthanc_instances(orthanc.rest_url) == [bystander], "only the ledger's instances were removed"
    assert list((tmp_path / "ledger").glob("*.jsonl")) == []


def test_credentials_never_reach_a_report(tmp_path: Path) -> None:
    password = "pw-9f3a1c7e5b"
    with OrthancServer(users={"conformance": password}) as orthanc:
        env = {"DICOMWEB_USERNAME": "conformance", "DICOMWEB_PASSWORD": password}
        args = ("--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", ORTHANC_TARGET, "--dicomweb-auth", "basic")
        run = run_suite(tmp_path, *args, env=env)
        assert run.returncode == 0, run.output
        assert run.outcomes["suites/auth/test_auth.py::test_request_without_credentials_is_refused"] == "PASS"
        assert orthanc_instances(orthanc.rest_url, auth=("conformance", password)) == []
    encoded = base64.b64encode(f"conformance:{password}".encode()).decode()
    for path in [*tmp_path.glob("*.*"), *tmp_path.glob("ledger/*")]:
        text = path.read_text(errors="replace")
        assert password not in text, path
        assert encoded not in text, path
    assert password not in run.output
    assert encoded not in run.output
