"""The client sends through the proxy the environment names (http_proxy, no_proxy), worked out once per host."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from dicomweb_conformance.config.target import resolve_target
from dicomweb_conformance.transport.client import DicomwebClient


class _RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    request_lines: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.request_lines.append(self.requestline)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _RecordingHandler.request_lines.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _client(url: str) -> DicomwebClient:
    return DicomwebClient(resolve_target({"url": url, "auth": "none"}, {}), None)


def test_requests_go_through_the_proxy_the_environment_names(proxy_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", proxy_url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    client = _client("http://dicomweb.invalid:8042/dicom-web")
    for _ in range(2):
        assert client.get("studies").status_code == 200
    # A proxy is asked for the absolute URI; the second request used what the first worked out.
    assert _RecordingHandler.request_lines == ["GET http://dicomweb.invalid:8042/dicom-web/studies HTTP/1.1"] * 2


def test_a_host_named_in_no_proxy_is_reached_directly(proxy_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://proxy.invalid:3128")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    client = _client(proxy_url + "/dicom-web")
    assert client.get("studies").status_code == 200
    assert _RecordingHandler.request_lines == ["GET /dicom-web/studies HTTP/1.1"]
