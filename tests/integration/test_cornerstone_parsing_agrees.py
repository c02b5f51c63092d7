"""The CL-CS3D frame verdicts are what the real @cornerstonejs/dicom-image-loader does: against each Orthanc generation
the suite's cornerstone module runs with the shipped target; then every frames answer of the same kind of study is
fetched with the loader's Accept and handed to the package's own extractMultipart and getTransferSyntaxForContentType
under Node (tests/js/cornerstone/parse_answers.mjs, the package installed by .ci/install). A check PASSes exactly
where what that code cut out (or its throw) passes the same step; the Python port (checks/clients_cornerstone.py)
gives byte for byte what the JS gives, on the real answers and on broken copies of them (bare LF, a lowercase part
header, no closing boundary, a single part).

Not run in JS: the decoders (WebAssembly codecs behind a web worker) and the metadata provider (it only reads
Value[0] of the JSON and parseFloats it); the pixels are decoded by the suite's own codecs.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmread

from dicomweb_conformance.checks.clients import ClientStudy
from dicomweb_conformance.checks.clients_cornerstone import (
    ACCEPT_FRAMES,
    FRAME_CASES,
    Extracted,
    ExtractError,
    ViewedFrame,
    build_cornerstone_study,
    check_pixels,
    check_syntax,
    extract_multipart,
    frame_instance,
    transfer_syntax_for_content_type,
)
from dicomweb_conformance.checks.common import ConformanceFailure
from tests.integration.client_targets import TARGETS, run_profile
from tests.integration.suite_runner import ROOT

MODULE = "suites/clients/test_client_cornerstone.py::"
NODE_DIR = ROOT / "tests" / "js" / "cornerstone"
CHECKS = {
    "test_cs3d_frame_extracts": lambda frame: None,
    "test_cs3d_frame_syntax": check_syntax,
    "test_cs3d_frame_pixels": check_pixels,
}


def _run_loader(answers: dict[str, tuple[str | None, bytes]]) -> dict[str, dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "@cornerstonejs" / "dicom-image-loader").is_dir():
        pytest.fail(f"needs node and `npm ci` in {NODE_DIR} (.ci/install does both)")
    payload = [
        {"id": key, "content_type": content_type, "body": base64.b64encode(body).decode()}
        for key, (content_type, body) in answers.items()
    ]
    completed = subprocess.run(
        [node, str(NODE_DIR / "parse_answers.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    results: dict[str, dict[str, Any]] = json.loads(completed.stdout)
    return results


def _port(content_type: str | None, body: bytes) -> dict[str, Any]:
    """What checks/clients_cornerstone.py makes of the same answer, in the JS script's terms."""
    try:
        extracted = extract_multipart(content_type or "application/octet-stream", body)
    except ExtractError as error:
        return {"ok": False, "error": str(error)}
    return {
        "ok": True,
        "contentType": extracted.content_type,
        "transferSyntax": transfer_syntax_for_content_type(extracted.content_type),
        "pixelData": base64.b64encode(extracted.pixel_data).decode(),
    }


def _broken_copies(key: str, content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Answers the loader must reject or mislabel, made from a real one."""
    head_end = body.find(b"\r\n\r\n")
    return {
        f"{key}/lf-only": (content_type, body.replace(b"\r\n", b"\n")),
        f"{key}/lowercase-header": (content_type, body.replace(b"Content-Type:", b"content-type:", 1)),
        f"{key}/unterminated": (content_type, body[: body.rfind(b"\r\n--")]),
        f"{key}/single-part": ("image/jp2", body[head_end + 4 : body.rfind(b"\r\n--")]),
        f"{key}/no-content-type": (None, body),
    }


def _verdict(check: str, study: ClientStudy, case: str, response: requests.Response, loader: dict[str, Any]) -> bool:
    """Whether the step passes on what the loader's own code produced."""
    if response.status_code not in (200, 206) or not loader["ok"]:
        return False
    instance, number = frame_instance(study, case)
    extracted = Extracted(loader["contentType"], base64.b64decode(loader["pixelData"]))
    try:
        CHECKS[check](ViewedFrame(instance, number, response, extracted))
    except ConformanceFailure:
        return False
    return True


@pytest.mark.parametrize("generation", ["1.10", "1.12"])
def test_cl_cs3d_verdicts_agree_with_the_loader(tmp_path: Path, generation: str) -> None:
    with TARGETS[f"orthanc-{generation}"]() as served:
        run = run_profile(tmp_path, served, "test_client_cornerstone")
        study = build_cornerstone_study("cs3d-agree")
        DICOMwebClient(url=served.url).store_instances([dcmread(io.BytesIO(i.data)) for i in study.instances.values()])
        responses: dict[str, requests.Response] = {}
        for case in FRAME_CASES:
            instance, number = frame_instance(study, case)
            url = (
                f"{served.url}/studies/{instance.study_uid}/series/{instance.series_uid}"
                f"/instances/{instance.sop_instance_uid}/frames/{number}"
            )
            responses[case] = requests.get(url, headers={"Accept": ACCEPT_FRAMES}, timeout=60)
    answers: dict[str, tuple[str | None, bytes]] = {}
    for case, response in responses.items():
        content_type = response.headers.get("Content-Type")
        answers[case] = (content_type, response.content)
        if response.ok and content_type and "multipart" in content_type:
            answers.update(_broken_copies(case, content_type, response.content))
    loader = _run_loader(answers)

    differing = {key: (loader[key], _port(*answer)) for key, answer in answers.items() if loader[key] != _port(*answer)}
    assert differing == {}, "(JS, port) where the port parses otherwise than the loader"
    assert {key for key in answers if "/" in key and not loader[key]["ok"]}, "no broken copy made the loader throw"

    outcomes = {nodeid.removeprefix(MODULE): outcome for nodeid, outcome in run.outcomes.items()}
    table, disagreements = [], {}
    for check in CHECKS:
        for case in FRAME_CASES:
            node = f"{check}[{case}]"
            passes = _verdict(check, study, case, responses[case], loader[case])
            table.append(f"{node:<60} loader {'ok' if passes else 'breaks':<7} suite {outcomes[node]}")
            if passes != (outcomes[node] == "PASS"):
                disagreements[node] = (passes, outcomes[node])
    print(f"\nOrthanc {run.server_version}\n" + "\n".join(table))
    assert disagreements == {}, "(loader passes, check outcome) per check"
