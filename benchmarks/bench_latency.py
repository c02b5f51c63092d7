"""The default suite against a throw-away Orthanc, directly and through a TCP proxy that adds round-trip latency.

    python benchmarks/bench_latency.py [--rtt-ms 0 20 40] [--repeat 3] [-- extra pytest options, e.g. -n 4]

For each round trip and run it prints: wall time, requests answered (the run's own count), TCP connections the proxy
accepted, checks executed and checks per second; then the median per round trip. The proxy delays every chunk by half
the round trip in each direction (a pure latency: bandwidth is not limited), so one request-response costs one RTT
more. Figures, never assertions: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from dicomweb_conformance.launchers.orthanc_server import OrthancServer  # noqa: E402

CHUNK = 256 * 1024
NOT_EXECUTED = {"NOT-APPLICABLE", "UNTESTABLE", "BLOCKED"}


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


def run_suite(url: str, extra: list[str]) -> tuple[float, dict[str, object], int]:
    with tempfile.TemporaryDirectory() as reports:
        command = [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"),
            *("--dicomweb-url", url, "--dicomweb-target", str(ROOT / "targets" / "orthanc.toml")),
            f"--dicomweb-reports={reports}",
            f"--dicomweb-ledger-dir={reports}/ledger",
            *extra,
        ]
        started = time.monotonic()
        finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        document = json.loads((Path(reports) / "conformance.json").read_text())
    return wall, document, finished.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rtt-ms", type=float, nargs="+", default=[0.0, 20.0, 40.0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="pytest options after --")
    args = parser.parse_args()
    with OrthancServer() as orthanc:
        host, port = "127.0.0.1", int(orthanc.rest_url.rsplit(":", 1)[1])
        print(f"Orthanc at {orthanc.rest_url}; pytest extra: {args.extra or '-'}")
        header = ("rtt ms", "run", "exit", "wall s", "requests", "conns", "checks", "checks/s")
        print(" ".join(f"{name:>{width}}" for name, width in zip(header, (6, 3, 4, 7, 8, 5, 6, 8), strict=True)))
        medians = []
        for rtt in args.rtt_ms:
            walls, rates = [], []
            for run in range(1, args.repeat + 1):
                proxy = LatencyProxy((host, port), rtt / 2000).start() if rtt > 0 else None
                url = f"http://127.0.0.1:{proxy.port}/dicom-web" if proxy else orthanc.dicomweb_url
                try:
                    wall, document, code = run_suite(url, args.extra)
                finally:
                    if proxy:
                        proxy.stop()
                checks = document["checks"]
                assert isinstance(checks, dict)
                executed = sum(1 for check in checks.values() if check["outcome"] not in NOT_EXECUTED)
                performance = document["performance"]
                assert isinstance(performance, dict)
                connections = str(proxy.connections) if proxy else "-"
                walls.append(wall)
                rates.append(executed / wall)
                print(
                    f"{rtt:>6.0f} {run:>3} {code:>4} {wall:>7.1f} {performance['requests']:>8} {connections:>5} "
                    f"{executed:>6} {executed / wall:>8.1f}"
                )
            medians.append((rtt, statistics.median(walls), statistics.median(rates)))
        print("median per round trip:")
        for rtt, wall, rate in medians:
            print(f"  {rtt:>4.0f} ms: {wall:6.1f} s, {rate:6.1f} checks/s")


if __name__ == "__main__":
    main()
