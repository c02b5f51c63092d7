"""transport/timings.py: which kind a request is, and the figures of a run's answers."""

from __future__ import annotations

import pytest

from dicomweb_conformance.transport.timings import Timings, kind_of, lines, percentile

BASE = "http://127.0.0.1:8042/dicom-web"


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("POST", "/studies", "STOW-RS store"),
        ("POST", "/studies/1.2.3", "STOW-RS store"),
        ("GET", "/studies?PatientID=X", "QIDO-RS search"),
        ("GET", "/studies/1.2/series", "QIDO-RS search"),
        ("GET", "/studies/1.2/series/3.4/instances", "QIDO-RS search"),
        ("GET", "/studies/1.2", "WADO-RS retrieve"),
        ("GET", "/studies/1.2/series/3.4/instances/5.6", "WADO-RS retrieve"),
        ("GET", "/studies/1.2/series/3.4/instances/5.6/metadata", "WADO-RS metadata"),
        ("GET", "/studies/1.2/series/3.4/instances/5.6/frames/1,2", "WADO-RS frames"),
        ("GET", "/studies/1.2/series/3.4/instances/5.6/rendered", "WADO-RS rendered"),
        ("GET", "/changefeed?startTime=x", "change feed"),
        ("DELETE", "/studies/1.2", "DELETE"),
        ("PUT", "/studies", "other"),
    ],
)
def test_kind_of_a_request(method: str, path: str, kind: str) -> None:
    assert kind_of(method, BASE + path) == kind


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile([7.0], 0.95)) == (50.0, 95.0, 7.0)


def test_summary_figures_and_throughput_only_where_bytes_move() -> None:
    timings = Timings()
    for ms in (10, 20, 30, 40):
        timings.record("GET", f"{BASE}/studies/1", ms / 1000, 0, 1_000_000)
    timings.record("POST", f"{BASE}/studies", 0.5, 2_000_000, 300)
    timings.record("GET", f"{BASE}/studies?x=1", 0.002, 0, 5_000)
    worker = Timings()
    worker.record("GET", f"{BASE}/studies?x=2", 0.004, 0, 5_000)
    timings.merge(worker.raw())
    summary = timings.summary()
    assert summary["requests"] == 7
    assert summary["kinds"]["WADO-RS retrieve"] == {
        "count": 4,
        "p50_ms": 20.0,
        "p95_ms": 40.0,
        "max_ms": 40.0,
        "mb_per_s": 40.0,
    }
    assert summary["kinds"]["STOW-RS store"]["mb_per_s"] == 4.0
    assert summary["kinds"]["QIDO-RS search"] == {
        "count": 2,
        "p50_ms": 2.0,
        "p95_ms": 4.0,
        "max_ms": 4.0,
        "mb_per_s": None,
    }
    assert lines(summary)[0].startswith("speed: 7 requests answered")
