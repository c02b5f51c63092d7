"""DW-DATA-014 (the `large` round trip, opted into with -m large) can pass and can fail: a small 'large' instance
(DICOMWEB_LARGE_MB=8, the same streams as a gigabyte) through the fault proxy in front of a real Orthanc."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.faults.proxy import FaultProxy
from tests.faults.rules import INSTANCE, MimePart, ProxyRule, distort_parts
from tests.integration.suite_runner import ROOT, orthanc_instances, run_suite


def _flip_a_byte_in_the_middle(parts: list[MimePart]) -> list[MimePart]:
    content = parts[0].content
    middle = len(content) // 2
    return [parts[0].with_content(content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1 :])]


FAULTS = {
    "none": (),
    "retrieve-flips-a-pixel-byte": (
        ProxyRule(
            "large-flips-a-byte",
            "the instance comes back as stored",
            "GET",
            INSTANCE,
            distort_parts(_flip_a_byte_in_the_middle),
        ),
    ),
}


@pytest.fixture(scope="module")
def orthanc() -> Iterator[OrthancServer]:
    with OrthancServer() as server:
        yield server


@pytest.mark.parametrize(("fault", "outcome"), [("none", "PASS"), ("retrieve-flips-a-pixel-byte", "FAIL")])
def test_the_large_check_passes_and_fails(orthanc: OrthancServer, tmp_path: Path, fault: str, outcome: str) -> None:
    proxy = FaultProxy(orthanc.rest_url).start()
    try:
        proxy.switch(FAULTS[fault])
        run = run_suite(
            tmp_path,
            *("--dicomweb-url", proxy.url + "/dicom-web", "--dicomweb-target", str(ROOT / "targets" / "orthanc.toml")),
            *("-m", "large"),
            env={"DICOMWEB_LARGE_MB": "8"},
        )
    finally:
        proxy.stop()
    assert list(run.outcomes.values()) == [outcome], run.output[-3000:]
    assert run.returncode == (0 if outcome == "PASS" else 1)
    assert orthanc_instances(orthanc.rest_url) == [], "the run removed the instance it stored"
