"""How we talk to a server: a requests session that records every exchange."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from http.client import RemoteDisconnected
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.utils import resolve_proxies
from urllib3.exceptions import ProtocolError

from dicomweb_conformance.config.target import TargetConfig
from dicomweb_conformance.transport.exchange import Exchange
from dicomweb_conformance.transport.health import ServerHealth
from dicomweb_conformance.transport.pool import CONNECTIONS_PER_HOST
from dicomweb_conformance.transport.server_changes import CHANGING_METHODS, ServerChanges
from dicomweb_conformance.transport.timings import Timings

USER_AGENT = "dicomweb-conformance/0.1"
STREAM_CHUNK = 256 * 1024
PROBE_TIMEOUT_S = 5.0
# Sent again, once, when a kept-alive connection turns out closed before any answer (RFC 9112 9.3.1): a server that
# drops idle connections (Orthanc 1.10: after 1 s) closes one while the next request is on its way, a window as
# wide as the one-way latency. Never a POST: a store might have arrived.
_RETRIED_ON_A_STALE_CONNECTION = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
# A request that may not be sent twice goes on a fresh connection when the client sent nothing for this long: kept-
# alive ones may be closing (Orthanc 1.10 closes after 1 s idle). Counted from the previous request's sending, not
# its answer's end: the server began that answer after the request arrived, so it has been idle for less than this
# whatever the latency, and however long a large answer took to reach us (the server's clock starts when its last
# byte leaves, which can be long before it arrives: a 30 MB retrieve through a loaded link).
IDLE_BEFORE_A_FRESH_CONNECTION_S = 0.5

# Which exchange each response of a client belongs to: held here, by the client that sent it, never patched onto
# the third-party response object; an entry goes when its response does.
_EXCHANGES: weakref.WeakKeyDictionary[requests.Response, Exchange] = weakref.WeakKeyDictionary()


def exchange_of(response: requests.Response) -> Exchange | None:
    """The recorded exchange of a response a DicomwebClient received (None for any other response)."""
    return _EXCHANGES.get(response)


class DicomwebClient:
    """One session per target. `exchanges` holds everything sent, newest last, redacted."""

    def __init__(
        self,
        target: TargetConfig,
        auth: AuthBase | None,
        *,
        session: requests.Session | None = None,
        health: ServerHealth | None = None,
    ):
        self.target = target
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_maxsize=CONNECTIONS_PER_HOST)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.verify = target.verify_tls
        self.auth = auth
        self.health = health or ServerHealth(self.probe)
        self.exchanges: list[Exchange] = []
        self.timings = Timings()
        self.changes = ServerChanges(None, "")  # under xdist, the run's shared lock (plugin/session.py)
        self._lock = threading.Lock()
        self._last_sent = time.monotonic()
        self._proxies: dict[tuple[str, str], dict[str, str]] = {}

    def probe(self) -> int | None:
        """The status of a one-result study search, or None when the server gives no answer (not recorded)."""
        try:
            response = self.session.get(
                self.url("studies"),
                params={"limit": "1"},
                headers={"Accept": "application/dicom+json"},
                auth=self.auth,
                timeout=PROBE_TIMEOUT_S,
            )
        except requests.RequestException:
            return None
        return response.status_code

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.target.url(path)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        params: Any = None,
        data: Any = None,
        authenticate: bool = True,
        stream: bool = False,
        timeout: float | None = None,
    ) -> requests.Response:
        """Send one request. The response body is read (and recorded) unless stream=True.

        Once the server has stopped answering (transport/health.py), nothing more is sent: ServerDown instead."""
        self.health.raise_if_down()
        prepared = self.session.prepare_request(
            requests.Request(
                method,
                self.url(path),
                headers=headers or {},
                params=params,
                data=data,
                auth=self.auth if authenticate else None,
            )
        )
        if not authenticate:
            prepared.headers.pop("Authorization", None)
        body = prepared.body if isinstance(prepared.body, bytes) else None
        exchange = Exchange.capture(method, prepared.url or "", dict(prepared.headers), body)
        if prepared.body is not None and body is None:
            exchange.request_body = "(streamed body)"
        with self._lock:
            self.exchanges.append(exchange)
        started = time.monotonic()
        try:
            with self.changes.changing() if method.upper() in CHANGING_METHODS else nullcontext():
                response = self._send(prepared, stream=stream, timeout=timeout or self.target.request_timeout)
        except requests.RequestException as error:
            exchange.error = f"{type(error).__name__}: {error}"
            self.health.no_answer(exchange)
            raise
        _EXCHANGES[response] = exchange
        if not stream:
            try:
                content = response.content
            except requests.RequestException as error:  # the connection broke while the body was read
                exchange.error = f"{type(error).__name__} reading the body: {error}"
                self.health.no_answer(exchange)
                raise
            elapsed = time.monotonic() - started
            exchange.record_response(response.status_code, dict(response.headers), content, elapsed)
            self.timings.record(method, exchange.url, elapsed, _sent_bytes(prepared), len(content or b""))
        else:
            exchange.record_response(response.status_code, dict(response.headers), None, 0.0, streamed_bytes=0)
        self.health.answered(exchange)
        return response

    def _send(self, prepared: requests.PreparedRequest, *, stream: bool, timeout: float) -> requests.Response:
        paused = self._sending()
        if paused and prepared.method not in _RETRIED_ON_A_STALE_CONNECTION:
            for adapter in self.session.adapters.values():
                if isinstance(adapter, HTTPAdapter):
                    adapter.poolmanager.clear()
        proxies = self._proxies_for(prepared)
        try:
            response = self.session.send(prepared, stream=stream, timeout=timeout, proxies=proxies)
        except requests.ConnectionError as error:
            replayable = prepared.body is None or isinstance(prepared.body, bytes | str)
            if prepared.method not in _RETRIED_ON_A_STALE_CONNECTION or not replayable:
                raise
            if not _closed_before_any_answer(error):
                raise
            response = self.session.send(prepared, stream=stream, timeout=timeout, proxies=proxies)
        return response

    def _proxies_for(self, prepared: requests.PreparedRequest) -> dict[str, str]:
        """What requests' send would work out from the environment (*_proxy, no_proxy) for every request anew,
        worked out once per scheme and host: it reads the whole environment each time (0.15 ms a request)."""
        split = urlsplit(prepared.url or "")
        key = (split.scheme, split.netloc)
        with self._lock:
            proxies = self._proxies.get(key)
        if proxies is None:
            proxies = resolve_proxies(prepared, dict(self.session.proxies), self.session.trust_env)
            with self._lock:
                self._proxies[key] = proxies
        return proxies

    def _sending(self) -> bool:
        """Notes a request going out; whether the client had sent nothing for IDLE_BEFORE_A_FRESH_CONNECTION_S."""
        with self._lock:
            now = time.monotonic()
            paused = now - self._last_sent > IDLE_BEFORE_A_FRESH_CONNECTION_S
            self._last_sent = now
        return paused

    def get(self, path: str, *, accept: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if accept is not None:
            headers["Accept"] = accept
        return self.request("GET", path, headers=headers, **kwargs)

    def get_without_accept(self, path: str, **kwargs: Any) -> requests.Response:
        """GET with no Accept header at all; requests would otherwise send its default 'Accept: */*'."""
        # requests drops a header whose value is None, the session's defaults included.
        return self.request("GET", path, headers={"Accept": None}, **kwargs)  # type: ignore[dict-item]

    def post(
        self, path: str, data: Any, *, content_type: str, accept: str | None = "application/dicom+json", **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Content-Type"] = content_type
        if accept is not None:
            headers["Accept"] = accept
        return self.request("POST", path, headers=headers, data=data, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    @contextmanager
    def streamed(self, path: str, *, accept: str, **kwargs: Any) -> Iterator[requests.Response]:
        """GET with a streamed body; the exchange records how many bytes were read."""
        started = time.monotonic()
        response = self.get(path, accept=accept, stream=True, **kwargs)
        counted = _CountingResponse(response)
        try:
            yield counted.response
        finally:
            exchange = _EXCHANGES[response]
            exchange.response_body = f"({counted.bytes_read} bytes, streamed)"
            response.close()
            self.timings.record("GET", exchange.url, time.monotonic() - started, 0, counted.bytes_read)

    def take_exchanges(self) -> list[Exchange]:
        """Everything recorded since the last call; a test's report shows what that test sent."""
        with self._lock:
            taken, self.exchanges = self.exchanges, []
        return taken


def _closed_before_any_answer(error: requests.ConnectionError) -> bool:
    """The connection ended before a status line arrived (http.client's RemoteDisconnected), not a refusal or a
    timeout."""
    cause = error.args[0] if error.args else None
    return isinstance(cause, ProtocolError) and any(isinstance(part, RemoteDisconnected) for part in cause.args)


def _sent_bytes(prepared: requests.PreparedRequest) -> int:
    """The request body's size: its length, or the Content-Length of a streamed body (0 when unknown)."""
    if isinstance(prepared.body, bytes | str):
        return len(prepared.body)
    length = prepared.headers.get("Content-Length", "0")
    return int(length) if length.isdigit() else 0


class _CountingResponse:
    def __init__(self, response: requests.Response):
        self.response = response
        self.bytes_read = 0
        original = response.iter_content

        def counting_iter_content(chunk_size: int | None = STREAM_CHUNK, decode_unicode: bool = False) -> Iterator[Any]:
            for chunk in original(chunk_size=chunk_size, decode_unicode=decode_unicode):
                self.bytes_read += len(chunk)
                yield chunk

        response.iter_content = counting_iter_content  # type: ignore[method-assign]
