"""The bounded pool, the concurrency setting, and the one resend on a kept-alive connection the server closed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from dicomweb_conformance.config.settings import ConfigError, Setting, concurrency
from dicomweb_conformance.config.target import resolve_target
from dicomweb_conformance.transport.client import IDLE_BEFORE_A_FRESH_CONNECTION_S, DicomwebClient
from dicomweb_conformance.transport.pool import run_all


def test_results_come_back_in_the_order_of_the_calls() -> None:
    calls = [partial(pow, n, 2) for n in range(20)]
    assert run_all(calls, 8) == [n * n for n in range(20)]
    assert run_all(calls, 1) == [n * n for n in range(20)]


def test_the_first_failure_in_order_is_raised_after_every_call_ran() -> None:
    ran: list[int] = []
    lock = threading.Lock()

    def call(n: int) -> int:
        with lock:
            ran.append(n)
        if n in (3, 7):
            raise ValueError(n)
        return n

    with pytest.raises(ValueError, match="3"):
        run_all([partial(call, n) for n in range(10)], 4)
    assert sorted(ran) == list(range(10))


@pytest.mark.parametrize("value", ["0", "-2", "many", "1.5"])
def test_a_concurrency_that_is_no_positive_whole_number_names_its_source(value: str) -> None:
    with pytest.raises(ConfigError, match="DICOMWEB_CONCURRENCY"):
        concurrency(Setting(value, "DICOMWEB_CONCURRENCY"))


def test_concurrency_one_is_serial() -> None:
    assert concurrency(Setting("1", "--dicomweb-concurrency")) == 1
    assert concurrency(Setting(8, "default")) == 8


ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: 2\r\n\r\n[]"


@pytest.fixture
def closes_the_first_connection_unanswered() -> Iterator[tuple[str, list[bytes]]]:
    """A server that reads the first request and hangs up without a status line; later connections get an answer."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        for number in range(3):
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                received.append(connection.recv(65536))
                if number > 0:
                    connection.sendall(ANSWER)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    listener.close()


def test_a_search_is_sent_again_once_when_the_connection_closed_before_any_answer(
    closes_the_first_connection_unanswered: tuple[str, list[bytes]],
) -> None:
    url, received = closes_the_first_connection_unanswered
    client = DicomwebClient(resolve_target({"url": url, "auth": "none"}, {}), None)
    response = client.get("studies", accept="application/dicom+json")
    assert response.status_code == 200
    assert [request.split(b"\r\n")[0] for request in received] == [b"GET /studies HTTP/1.1"] * 2


def test_a_store_is_never_sent_again(closes_the_first_connection_unanswered: tuple[str, list[bytes]]) -> None:
    url, received = closes_the_first_connection_unanswered
    client = DicomwebClient(resolve_target({"url": url, "auth": "none"}, {}), None)
    client.health.no_answer = lambda exchange: None  # type: ignore[method-assign]
    with pytest.raises(requests.ConnectionError):
        client.post("studies", b"body", content_type="application/dicom")
    assert len(received) == 1


class _CountingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: ClassVar[list[int]] = []

    def setup(self) -> None:
        super().setup()
        self.connections.append(1)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_store_after_a_pause_goes_on_a_fresh_connection_and_one_without_reuses_it() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        client = DicomwebClient(resolve_target({"url": url, "auth": "none"}, {}), None)
        client.post("studies", b"one", content_type="application/dicom")
        client.post("studies", b"two", content_type="application/dicom")
        assert len(_CountingHandler.connections) == 1, "kept alive"
        client._last_sent -= IDLE_BEFORE_A_FRESH_CONNECTION_S + 1  # as if the client had sent nothing since
        client.post("studies", b"three", content_type="application/dicom")
        assert len(_CountingHandler.connections) == 2
    finally:
        server.shutdown()
        server.server_close()
