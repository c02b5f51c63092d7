"""The default suite against a throw-away Orthanc 1.10 and the Azure facade (azure profile, bearer token, over its
own Orthanc), directly and through a TCP proxy that adds round-trip latency.

    python benchmarks/bench_latency.py [--rtt-ms 0 20 40] [--repeat 3] [--targets orthanc facade]
                                       [-- extra pytest options, e.g. -n 4 or --dicomweb-concurrency 1]

For each target, round trip and run it prints: wall time, requests answered (the run's own count), TCP connections
the proxy accepted (none at 0 ms: no proxy), checks executed and checks per second; then the medians. The
proxy delays every chunk by half the round trip in each direction (a pure latency: bandwidth is not limited), so one
request-response costs one RTT more. Figures, never assertions: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from dicomweb_conformance.launchers.orthanc_server import OrthancServer  # noqa: E402
from tests.doubles.facade.server import facade_over_fresh_orthanc  # noqa: E402

CHUNK = 256 * 1024
NOT_EXECUTED = {"NOT-APPLICABLE", "UNTESTABLE", "BLOCKED"}
FACADE_TOKEN = "bench-latency-token"


class LatencyProxy:
    """Forwards TCP from a free loopback port to `upstream`, each chunk sent `one_way_s` after it arrived."""

    def __init__(self, upstream: tuple[str, int], one_way_s: float):
        self.upstream = upstream
        self.one_way_s = one_way_s
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()

    def start(self) -> LatencyProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            server = socket.create_connection(self.upstream)
            # A wire delays bytes, it does not batch them: without this, Nagle's algorithm on the proxy's own
            # sockets meets the peers' delayed ACKs and adds up to 40 ms to a request sent in two writes.
            for end in (client, server):
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for source, sink in ((client, server), (server, client)):
                pending: queue.Queue[tuple[float, bytes]] = queue.Queue()
                threading.Thread(target=self._read, args=(source, pending), daemon=True).start()
                threading.Thread(target=self._write, args=(sink, pending), daemon=True).start()

    def _read(self, source: socket.socket, pending: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            try:
                chunk = source.recv(CHUNK)
            except OSError:
                chunk = b""
            pending.put((time.monotonic() + self.one_way_s, chunk))
            if not chunk:
                return

    def _write(self, sink: socket.socket, pending: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            due, chunk = pending.get()
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                if not chunk:
                    sink.shutdown(socket.SHUT_WR)
                    return
                sink.sendall(chunk)
            except OSError:
                return


@dataclass(frozen=True)
class Target:
    name: str
    url: str  # the DICOMweb root the suite is given, before the proxy
    target_file: Path
    env: dict[str, str]


@dataclass(frozen=True)
class Run:
    wall: float
    code: int
    requests: int
    connections: int | None
    checks: int

    @property
    def rate(self) -> float:
        return self.checks / self.wall


def run_suite(target: Target, url: str, extra: list[str]) -> tuple[float, dict[str, object], int]:
    with tempfile.TemporaryDirectory() as reports:
        command = [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"),
            *("--dicomweb-url", url, "--dicomweb-target", str(target.target_file)),
            f"--dicomweb-reports={reports}",
            f"--dicomweb-ledger-dir={reports}/ledger",
            *extra,
        ]
        environ = {k: v for k, v in os.environ.items() if not k.startswith("DICOMWEB_")} | target.env
        started = time.monotonic()
        finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=environ)
        wall = time.monotonic() - started
        document = json.loads((Path(reports) / "conformance.json").read_text())
    return wall, document, finished.returncode


def measure(target: Target, rtt: float, extra: list[str]) -> Run:
    split = urlsplit(target.url)
    upstream = (split.hostname or "127.0.0.1", split.port or 80)
    proxy = LatencyProxy(upstream, rtt / 2000).start() if rtt > 0 else None
    url = urlunsplit(split._replace(netloc=f"127.0.0.1:{proxy.port}")) if proxy else target.url
    try:
        wall, document, code = run_suite(target, url, extra)
    finally:
        if proxy:
            proxy.stop()
    checks = document["checks"]
    performance = document["performance"]
    assert isinstance(checks, dict)
    assert isinstance(performance, dict)
    executed = sum(1 for check in checks.values() if check["outcome"] not in NOT_EXECUTED)
    return Run(wall, code, int(performance["requests"]), proxy.connections if proxy else None, executed)


def targets(names: list[str], stack: ExitStack) -> list[Target]:
    chosen = []
    if "orthanc" in names:
        orthanc = stack.enter_context(OrthancServer(generation="1.10"))
        chosen.append(Target("orthanc", orthanc.dicomweb_url, ROOT / "targets" / "orthanc.toml", {}))
    if "facade" in names:
        facade = stack.enter_context(facade_over_fresh_orthanc(tokens={FACADE_TOKEN}))
        env = {"DICOMWEB_TOKEN": FACADE_TOKEN, "DICOMWEB_EXPIRED_TOKEN": "bench-refused-token"}
        chosen.append(Target("facade", facade.url("v2"), ROOT / "targets" / "azure-facade.toml", env))
    return chosen


def machine_pace() -> str:
    """CPU seconds of a fixed pure-Python loop, alone and with a second copy on another core at once: the same
    machine kind runs it at different speeds from hour to hour, and two busy cores slow each other."""

    def spin() -> float:
        started = time.process_time()
        total = 0
        for number in range(10_000_000):
            total += number
        return time.process_time() - started

    alone = min(spin() for _ in range(3))
    rival = subprocess.Popen([sys.executable, "-c", "for number in range(60_000_000): pass"])
    together = min(spin() for _ in range(3))
    rival.kill()
    rival.wait()
    return f"pace: a fixed loop takes {alone:.2f} s of CPU alone, {together:.2f} s beside a busy core (best of 3)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rtt-ms", type=float, nargs="+", default=[0.0, 20.0, 40.0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--targets", nargs="+", choices=["orthanc", "facade"], default=["orthanc", "facade"])
    parser.add_argument("extra", nargs="*", help="pytest options after --")
    args = parser.parse_args()
    header = ("target", "rtt ms", "run", "exit", "wall s", "requests", "conns", "checks", "checks/s")
    widths = (7, 6, 3, 4, 7, 8, 5, 6, 8)
    # Without bytecode caches every process (each xdist worker) compiles the suite and pytest rewrites plugins again.
    caches = "not written (PYTHONDONTWRITEBYTECODE)" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "written"
    print(f"pytest extra: {args.extra or '-'}; bytecode caches {caches}; load average at start: {os.getloadavg()}")
    print(machine_pace(), flush=True)
    print(" ".join(f"{name:>{width}}" for name, width in zip(header, widths, strict=True)))
    medians = []
    with ExitStack() as stack:
        for target in targets(args.targets, stack):
            for rtt in args.rtt_ms:
                runs = []
                for number in range(1, args.repeat + 1):
                    run = measure(target, rtt, args.extra)
                    runs.append(run)
                    connections = "-" if run.connections is None else str(run.connections)
                    print(
                        f"{target.name:>7} {rtt:>6.0f} {number:>3} {run.code:>4} {run.wall:>7.1f} {run.requests:>8} "
                        f"{connections:>5} {run.checks:>6} {run.rate:>8.1f}",
                        flush=True,
                    )
                medians.append((target.name, rtt, runs))
    print(f"medians (load average at the end: {os.getloadavg()}):")
    for name, rtt, runs in medians:
        counted = [run.connections for run in runs if run.connections is not None]
        print(
            f"  {name:>7} {rtt:>4.0f} ms: {statistics.median(run.wall for run in runs):6.1f} s, "
            f"{statistics.median(run.requests for run in runs):7.0f} requests, "
            f"{statistics.median(counted) if counted else '-':>5} connections, "
            f"{statistics.median(run.rate for run in runs):6.1f} checks/s"
        )


if __name__ == "__main__":
    main()
