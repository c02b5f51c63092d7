"""A fault-injecting HTTP proxy on 127.0.0.1: forwards every request to one upstream server, unchanged
unless an active rule matches it, in which case the rule may rewrite the request, answer instead of the
upstream server, or distort the upstream answer.

    with FaultProxy("http://127.0.0.1:8042") as proxy:
        proxy.switch([some_rule])           # between runs, never during one
        ... point a client at proxy.url ...
        proxy.hits["some-rule"]             # how many requests the rule touched
        proxy.errors                        # rules that raised (answered 502), which must stay empty

Bodies are buffered: DICOMweb payloads here are a few kilobytes.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from typing import Protocol
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

# RFC 9110 7.6.1: connection-specific fields are not forwarded; lengths and codings are recomputed.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
    }
)
UPSTREAM_TIMEOUT = 60.0
# RFC 9110 6.4.1: these answers have no content; a body would corrupt the kept-alive connection.
BODILESS_STATUSES = frozenset({HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED})


def changed_headers(headers: Mapping[str, str], changes: Mapping[str, str | None]) -> CaseInsensitiveDict[str]:
    """`headers` with each change: set (a value) or removed (None); underscores in names become hyphens."""
    changed = CaseInsensitiveDict(headers)
    for name, value in changes.items():
        header = name.replace("_", "-")
        if value is None:
            changed.pop(header, None)
        else:
            changed[header] = value
    return changed


@dataclass(frozen=True)
class ProxyRequest:
    """A request as the client sent it (or as a rule rewrote it); `path` has no query string."""

    method: str
    path: str
    query: str
    headers: CaseInsensitiveDict[str]
    body: bytes = b""

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    def with_headers(self, **changes: str | None) -> ProxyRequest:
        """A copy with headers set (a value) or removed (None); underscores in names become hyphens."""
        return replace(self, headers=changed_headers(self.headers, changes))


@dataclass(frozen=True)
class ProxyResponse:
    status: int
    headers: CaseInsensitiveDict[str] = field(default_factory=CaseInsensitiveDict)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def with_headers(self, **changes: str | None) -> ProxyResponse:
        """A copy with headers set (a value) or removed (None); underscores in names become hyphens."""
        return replace(self, headers=changed_headers(self.headers, changes))

    def with_body(self, body: bytes, content_type: str | None = None) -> ProxyResponse:
        headers = CaseInsensitiveDict(self.headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        return replace(self, headers=headers, body=body)

    def with_status(self, status: int) -> ProxyResponse:
        return replace(self, status=status)


Forward = Callable[[ProxyRequest], ProxyResponse]


class Rule(Protocol):
    """One named behaviour of the proxy: a fault, or a repair of a known deviation."""

    @property
    def name(self) -> str: ...

    def matches(self, request: ProxyRequest) -> bool: ...

    def handle(self, request: ProxyRequest, forward: Forward) -> ProxyResponse:
        """Answer `request`; call `forward` (at most once, with any request) to ask the upstream server."""
        ...


class FaultProxy:
    """A ThreadingHTTPServer in a background thread; `rules` apply in order, the first one outermost."""

    def __init__(self, upstream: str, *, port: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: Sequence[Rule] = ()
        self.hits: Counter[str] = Counter()
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._sessions = threading.local()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def switch(self, rules: Sequence[Rule]) -> None:
        """Make `rules` the active ones and reset the hit counts and errors."""
        self.rules = tuple(rules)
        with self._lock:
            self.hits.clear()
            self.errors.clear()

    def respond(self, request: ProxyRequest) -> ProxyResponse:
        answer: Forward = self._forward
        for rule in reversed(self.rules):
            answer = self._guarded(rule, answer)
        return answer(request)

    def _guarded(self, rule: Rule, inner: Forward) -> Forward:
        def answer(request: ProxyRequest) -> ProxyResponse:
            if not rule.matches(request):
                return inner(request)
            with self._lock:
                self.hits[rule.name] += 1
            return rule.handle(request, inner)

        return answer

    def record_error(self, error: str) -> None:
        with self._lock:
            self.errors.append(error)

    def _forward(self, request: ProxyRequest) -> ProxyResponse:
        upstream = self._session().request(
            request.method,
            self.upstream + request.target,
            headers={k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP},
            data=request.body or None,
            allow_redirects=False,
            timeout=UPSTREAM_TIMEOUT,
        )
        headers = CaseInsensitiveDict({k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP})
        return ProxyResponse(upstream.status_code, headers, upstream.content)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._sessions, "session", None)
        if session is None:
            session = requests.Session()
            # The client's own Accept-Encoding and User-Agent are forwarded; add none of ours.
            session.headers.clear()
            self._sessions.session = session
        return session

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_class(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_ProxyHandler):
        owner = proxy

    return Handler


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each answer waits for a delayed ACK.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._relay()

    def do_POST(self) -> None:
        self._relay()

    def do_PUT(self) -> None:
        self._relay()

    def do_DELETE(self) -> None:
        self._relay()

    def do_OPTIONS(self) -> None:  # a browser's CORS preflight (tests/faults/rules_clients_cors.py)
        self._relay()

    def _relay(self) -> None:
        request = self._incoming()
        try:
            response = self.owner.respond(request)
        except Exception as error:
            # A broken rule must not pass for a fault: the owner records it, the test asserts there is none.
            self.owner.record_error(f"{request.method} {request.target}: {type(error).__name__}: {error}")
            response = ProxyResponse(
                HTTPStatus.BAD_GATEWAY,
                CaseInsensitiveDict({"Content-Type": "text/plain"}),
                f"fault proxy error: {type(error).__name__}: {error}".encode(),
            )
        self._send(response)

    def _incoming(self) -> ProxyRequest:
        parts = urlsplit(self.path)
        headers = CaseInsensitiveDict(dict(self.headers))
        return ProxyRequest(self.command, parts.path, parts.query, headers, self._body())

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return _read_chunked(self.rfile)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, response: ProxyResponse) -> None:
        # The upstream Date and Server headers are forwarded, so send_response's own are not added.
        self.send_response_only(response.status, _reason(response.status))
        for name, value in response.headers.items():
            self.send_header(name, value)
        body = b"" if response.status in BODILESS_STATUSES else response.body
        if response.status not in BODILESS_STATUSES:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the conformance report records every exchange."""


def _read_chunked(stream: BufferedIOBase) -> bytes:
    """RFC 9112 7.1: size lines in hex, each chunk followed by CRLF, a zero-size chunk, then trailers."""
    chunks = []
    while size := int(stream.readline().split(b";")[0].strip() or b"0", 16):
        chunks.append(stream.read(size))
        stream.readline()
    while stream.readline().strip():
        pass
    return b"".join(chunks)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
