"""The CL-OHIF verdicts are what OHIF's own DICOMweb library does: against each Orthanc generation the suite's OHIF
module runs with the shipped target, then tests/js/ohif/ohif_requests.js makes the same requests through the JS
dicomweb-client 0.10.4 (the version OHIF depends on) under Node, on a study of the same kind, and reports whether
OHIF would get what it shows. A check PASSes exactly where the library's answer holds it; it FAILs (or is a declared
KNOWN-DEVIATION) exactly where the library rejects or comes back without it.

Needs Node and the library: `.ci/install` runs `npm ci` in tests/js/ohif; this test runs it too when node_modules is
missing (npm from the registry). Frames are made by cornerstone in OHIF, not by this library: for them the script
proves the status and the library's multipart split only, not cornerstone's part-header reading.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from dicomweb_conformance.checks.clients_ohif_study import OHIF_DESCRIPTION, build_ohif_study, measurement_sr
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.dicom.uids import new_uid
from dicomweb_conformance.suites.clients.test_client_ohif import FRAME_CASES
from tests.integration.client_targets import TARGETS, run_profile
from tests.integration.suite_runner import ROOT

MODULE = "suites/clients/test_client_ohif.py::"
SCRIPT_DIR = ROOT / "tests" / "js" / "ohif"
NPM_TIMEOUT_S = 600
NODE_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def node_script() -> Path:
    """The script, with its pinned dependencies installed (package-lock.json; `.ci/install` does this first)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node, "Node.js is needed: .ci/install installs Debian's nodejs and npm"
    assert npm, "npm is needed: .ci/install installs Debian's nodejs and npm"
    if not (SCRIPT_DIR / "node_modules" / "dicomweb-client").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SCRIPT_DIR, check=True, timeout=NPM_TIMEOUT_S)
    return SCRIPT_DIR / "ohif_requests.js"


def _store(root: str, instances: list[SampleInstance]) -> None:
    boundary = "ohif-agree-setup"
    body = b"".join(f"\r\n--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + i.data for i in instances)
    content_type = f'multipart/related; type="application/dicom"; boundary={boundary}'
    response = requests.post(
        f"{root}/studies",
        data=body + f"\r\n--{boundary}--".encode(),
        timeout=60,
        headers={"Content-Type": content_type},
    )
    response.raise_for_status()


def _library_results(node_script: Path, root: str, workdir: Path) -> dict[str, dict[str, object]]:
    study = build_ohif_study("ohif-agree")
    _store(root, study.instances)
    sr = measurement_sr("ohif-agree")
    (workdir / "sr.dcm").write_bytes(sr.data)
    frames = {name: [n for case, n in FRAME_CASES if case == name] for name, _ in FRAME_CASES}
    instances = []
    for instance in study.instances:
        ds = instance.dataset
        native = ds.Rows * ds.Columns * ds.get("SamplesPerPixel", 1) * ds.BitsAllocated // 8
        instances.append(
            {
                "name": instance.name,
                "series_uid": instance.series_uid,
                "sop_uid": instance.sop_instance_uid,
                "modality": ds.Modality,
                "series_date": str(ds.SeriesDate),
                "series_number": str(ds.SeriesNumber),
                "series_description": str(ds.SeriesDescription),
                "frames": int(ds.get("NumberOfFrames") or 1),
                "frame_numbers": frames[instance.name],
                "native_size": 0 if instance.transfer_syntax_uid.startswith("1.2.840.10008.1.2.4") else native,
            }
        )
    given = {
        "root": root,
        "study_uid": study.study_uid,
        "patient_id": study.patient_id,
        "patient_name": study.patient_name,
        "patient_token": study.patient_token,
        "description": OHIF_DESCRIPTION,
        "other_uid": new_uid(),
        "nosuch_patient_id": "NOSUCH-ohif-agree",
        "sr_file": str(workdir / "sr.dcm"),
        "sr_study_uid": sr.study_uid,
        "instances": instances,
    }
    (workdir / "input.json").write_text(json.dumps(given))
    subprocess.run(
        ["node", str(node_script), str(workdir / "input.json"), str(workdir / "output.json")],
        check=True,
        timeout=NODE_TIMEOUT_S,
    )
    results: dict[str, dict[str, object]] = json.loads((workdir / "output.json").read_text())
    return results


@pytest.mark.parametrize("generation", ["1.10", "1.12"])
def test_cl_ohif_verdicts_agree_with_the_library(tmp_path: Path, node_script: Path, generation: str) -> None:
    with TARGETS[f"orthanc-{generation}"]() as served:
        run = run_profile(tmp_path, served, "test_client_ohif")
        results = _library_results(node_script, served.url, tmp_path)
    outcomes = {nodeid.removeprefix(MODULE): outcome for nodeid, outcome in run.outcomes.items()}
    assert set(outcomes) == set(results), "every CL-OHIF check has its library request"
    table = [f"{check:<55} {str(results[check]['detail'])[:60]:<60} {outcomes[check]}" for check in sorted(results)]
    print(f"\nOrthanc {run.server_version}\n" + "\n".join(table))
    disagreements = {
        check: (result, outcomes[check])
        for check, result in results.items()
        if bool(result["ok"]) != (outcomes[check] == "PASS")
    }
    assert disagreements == {}, "(library, check outcome) per check"
