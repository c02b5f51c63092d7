"""How fast the server answers: per kind of request, latency (p50 / p95 / max) and throughput, measured during a run.

Measured, never judged: the figures are reported beside the verdict and no check depends on them.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

# The kinds of request, by method and the resource's last segments (PS3.18 10.4-10.6, the Azure change feed).
_KINDS = (
    ("POST", re.compile(r"/studies(/[^/]+)?$"), "STOW-RS store"),
    ("GET", re.compile(r"/metadata$"), "WADO-RS metadata"),
    ("GET", re.compile(r"/frames/[^/]+$"), "WADO-RS frames"),
    ("GET", re.compile(r"/(rendered|thumbnail)$"), "WADO-RS rendered"),
    ("GET", re.compile(r"/bulkdata/|/bulk/"), "WADO-RS bulk data"),
    ("GET", re.compile(r"/changefeed(/latest)?$"), "change feed"),
    ("GET", re.compile(r"/(studies|series|instances)$"), "QIDO-RS search"),
    ("GET", re.compile(r"/studies/[^/]+(/series/[^/]+(/instances/[^/]+)?)?$"), "WADO-RS retrieve"),
    ("DELETE", re.compile(r"."), "DELETE"),
)
# Whose bytes make a kind's throughput: what is sent for a store, what comes back for a retrieve.
_SENT = frozenset({"STOW-RS store"})
_RECEIVED = frozenset({"WADO-RS retrieve", "WADO-RS frames", "WADO-RS bulk data", "WADO-RS rendered"})


def kind_of(method: str, url: str) -> str:
    path = urlsplit(url).path
    return next((kind for verb, pattern, kind in _KINDS if verb == method and pattern.search(path)), "other")


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Timings:
    """Every answered request of a client: (seconds, bytes sent, bytes received) by kind. Thread-safe."""

    def __init__(self) -> None:
        self.samples: dict[str, list[tuple[float, int, int]]] = {}
        self._lock = threading.Lock()

    def record(self, method: str, url: str, seconds: float, sent: int, received: int) -> None:
        with self._lock:
            self.samples.setdefault(kind_of(method, url), []).append((seconds, sent, received))

    def raw(self) -> dict[str, list[list[float]]]:
        """JSON-able, for an xdist worker to hand to the controller."""
        with self._lock:
            return {kind: [list(sample) for sample in samples] for kind, samples in self.samples.items()}

    def merge(self, raw: Mapping[str, list[list[float]]]) -> None:
        with self._lock:
            for kind, samples in raw.items():
                self.samples.setdefault(kind, []).extend((float(s), int(o), int(i)) for s, o, i in samples)

    def summary(self) -> dict[str, Any]:
        """Per kind: count, p50 / p95 / max in ms, and MB/s where bytes move (stores: sent; retrieves: received)."""
        kinds: dict[str, dict[str, Any]] = {}
        with self._lock:
            for kind, samples in sorted(self.samples.items()):
                seconds = [s for s, _, _ in samples]
                moved = sum(o for _, o, _ in samples) if kind in _SENT else sum(i for _, _, i in samples)
                total = sum(seconds)
                throughput = moved / 1e6 / total if (kind in _SENT | _RECEIVED) and total > 0 and moved else None
                kinds[kind] = {
                    "count": len(samples),
                    "p50_ms": round(percentile(seconds, 0.50) * 1000, 1),
                    "p95_ms": round(percentile(seconds, 0.95) * 1000, 1),
                    "max_ms": round(max(seconds) * 1000, 1),
                    "mb_per_s": round(throughput, 2) if throughput is not None else None,
                }
        return {"requests": sum(k["count"] for k in kinds.values()), "kinds": kinds}


def lines(summary: Mapping[str, Any]) -> list[str]:
    """The terminal's view of a summary."""
    rows = [f"speed: {summary['requests']} requests answered (latency p50 / p95 / max; throughput where bytes move)"]
    for kind, figures in summary["kinds"].items():
        rate = f", {figures['mb_per_s']} MB/s" if figures["mb_per_s"] is not None else ""
        rows.append(
            f"  {kind:<20} {figures['count']:>5} x  {figures['p50_ms']:>7} / {figures['p95_ms']:>7} / "
            f"{figures['max_ms']:>7} ms{rate}"
        )
    return rows
