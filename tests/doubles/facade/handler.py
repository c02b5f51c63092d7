"""HTTP/1.1 plumbing: turns http.server requests into Request values and writes Response values back."""

from __future__ import annotations

import logging
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from tests.doubles.facade.app import SUPPORTED_VERSIONS, VERSIONS, route
from tests.doubles.facade.auth import check_bearer
from tests.doubles.facade.messages import Request, RequestBody, Response, text
from tests.doubles.facade.orthanc_api import OrthancUnavailable
from tests.doubles.facade.state import FacadeState

log = logging.getLogger("tests.doubles.facade")
_NO_BODY = {204, 304}


class FacadeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, state: FacadeState) -> None:
        super().__init__(("127.0.0.1", port), FacadeRequestHandler)
        self.state = state

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up (e.g. after a 401 sent before its body was read) is not a facade error."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log.info("client %s went away: %s", client_address, error)
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class FacadeRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The Server header names the facade, so a run reports what it talked to (not "BaseHTTP/0.6 Python/3.11").
    server_version = "AzureDicomFacade/0.1"
    sys_version = ""
    # TCP_NODELAY on every accepted socket. Without it the body, written after the headers, waits in
    # Nagle's buffer for the client's delayed ACK of the headers: ~40 ms on every kept-alive answer
    # with a body (measured: change feed p50 43.6 ms, 3.6 ms for a 204), 4-8x the Orthanc run per check.
    disable_nagle_algorithm = True
    server: FacadeHTTPServer

    def do_GET(self) -> None:
        self._handle()

    # http.server dispatches on do_<METHOD>; every method goes through the same routing.
    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _handle(self) -> None:
        try:
            body = RequestBody.from_headers(self.rfile, self.headers)
        except ValueError as error:
            self.close_connection = True
            self._send(text(400, str(error)))
            return
        try:
            response = self._dispatch(body)
        except OrthancUnavailable as error:
            log.warning("Orthanc did not answer: %s", error)
            response = text(503, "The storage behind the facade is unavailable.")
        except Exception:
            log.exception("facade error on %s %s", self.command, self.path)
            response = text(500, "An internal error occurred.")
        if not body.consumed:
            # The body was not read (an early 4xx): closing is cheaper than draining it.
            self.close_connection = True
        try:
            self._send(response)
        except Exception as error:
            # The client went away, or Orthanc did in the middle of a streamed answer.
            log.info("answer to %s %s cut short: %s", self.command, self.path, error)
            self.close_connection = True

    def _dispatch(self, body: RequestBody) -> Response:
        state = self.server.state
        denied = check_bearer(self.headers.get("Authorization"), state.verifier)
        if denied is not None:
            return denied
        url = urlsplit(self.path)
        version, _, rest = url.path.lstrip("/").partition("/")
        if version not in VERSIONS:
            # "Routes without a version are no longer supported" (reference 1.0).
            return text(404, "The requested resource was not found.")
        raw_segments = rest.split("/")
        if len(raw_segments) > 1 and raw_segments[-1] == "":
            raw_segments.pop()
        request = Request(
            method=self.command,
            version=VERSIONS[version],
            segments=[unquote(segment) for segment in raw_segments],
            raw_path="/".join(raw_segments),
            query_string=url.query,
            headers=self.headers,
            body=body,
            base_url=self.server.base_url,
        )
        response = route(request, state)
        response.headers["api-supported-versions"] = SUPPORTED_VERSIONS
        return response

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            chunked = False
            if response.status in _NO_BODY:
                pass
            elif response.stream is None:
                self.send_header("Content-Length", str(len(response.body)))
            elif response.length is not None:
                self.send_header("Content-Length", str(response.length))
            else:
                chunked = True
                self.send_header("Transfer-Encoding", "chunked")
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD" or response.status in _NO_BODY:
                return
            if response.stream is None:
                self.wfile.write(response.body)
                return
            for chunk in response.stream:
                if chunk and chunked:
                    self.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                elif chunk:
                    self.wfile.write(chunk)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        finally:
            if response.close is not None:
                response.close()
