"""`--dicomweb-reports DIR` with a space: pytest's first pass took DIR for a test path and made it the rootdir,
so a run collected the whole clone (the project's own tests too), and xdist workers always did (the controller had
created DIR before they parsed the same command line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.integration.suite_runner import ROOT, clean_environment

SELECTION = "test_qido_attributes and PatientName"  # a few checks: what matters here is what is collected


def run_pytest(*args: str) -> subprocess.CompletedProcess[str]:
    # No test path on purpose: the README's command names none, and then the first pass has only the stray value.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-k", SELECTION, *args]
    return subprocess.run(command, cwd=ROOT, env=clean_environment(), capture_output=True, text=True, timeout=300)


def test_an_existing_folder_after_its_option_is_refused_with_the_fix(tmp_path: Path) -> None:
    run = run_pytest("--dicomweb-url", "http://127.0.0.1:9/dicom-web", "--dicomweb-reports", str(tmp_path))
    assert run.returncode == 4, run.stdout + run.stderr
    assert f"Write --dicomweb-reports={tmp_path} (with '=')" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr


def test_xdist_workers_collect_what_the_controller_does(orthanc: OrthancServer, tmp_path: Path) -> None:
    reports = tmp_path / "reports"  # not there yet: the controller creates it before the workers start
    spaced = run_pytest("-n", "2", "--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-reports", str(reports), "-rA")
    joined = run_pytest(f"--dicomweb-url={orthanc.dicomweb_url}", f"--dicomweb-reports={tmp_path / 'serial'}", "-rA")
    assert spaced.returncode == joined.returncode == 0, spaced.stdout[-3000:] + joined.stdout[-3000:]

    def checks(run: subprocess.CompletedProcess[str]) -> set[str]:
        return {line.split()[-1] for line in run.stdout.splitlines() if line.startswith(("PASSED ", "XFAIL "))}

    assert checks(spaced) == checks(joined)
    assert checks(spaced)
    assert all(nodeid.startswith("suites/qido/") for nodeid in checks(spaced))
