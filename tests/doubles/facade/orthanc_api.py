"""The few Orthanc REST calls the facade needs (Orthanc's own API plus its DICOMweb root).

Over http.client, one connection per call: Orthanc 1.10 drops idle keep-alive connections after 1 s
(local-targets.md) and, when asked for "Connection: close", still answers "keep-alive" and then closes, so a pooled
socket can die under the next request. requests built a Session, merged proxy settings from the environment and
parsed the URL again for every call: 0.77 ms of the facade's CPU per call against 0.21 ms here, over about 3200
calls per suite run (docs/research/speed-at-a-distance.md, session 23).
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal
from urllib.parse import quote, urlsplit

from tests.doubles.facade.messages import CHUNK

Level = Literal["Study", "Series", "Instance"]
_COLLECTION: dict[Level, str] = {"Study": "studies", "Series": "series", "Instance": "instances"}
TIMEOUT_SECONDS = 600.0
# What urllib3 leaves as it is in a path or query (RFC 3986 unreserved and sub-delims, ":@/?", and "%" of an
# existing escape); anything else a client sent is percent-encoded on the way to Orthanc, as requests did.
_URL_SAFE = "!$&'()*+,;=:@/?%~"


class OrthancRejected(Exception):
    """Orthanc refused to store a file (it answers 400 when it cannot parse it)."""


class OrthancUnavailable(Exception):
    """Orthanc did not answer, or answered an error to a call that must succeed."""


@dataclass(frozen=True)
class StoredInstance:
    orthanc_id: str
    already_stored: bool


class OrthancAnswer:
    """One answer, read from its own connection; close() closes the connection."""

    def __init__(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        self._connection = connection
        self._response = response
        self.status_code = response.status
        self.headers = response.headers  # case-insensitive, as an HTTP message's are
        self._content: bytes | None = None

    def read(self, size: int) -> bytes:
        return self._response.read(size)

    def stream(self, size: int = CHUNK) -> Iterator[bytes]:
        return iter(lambda: self._response.read(size), b"")

    def read_all(self) -> bytes:
        if self._content is None:
            try:
                self._content = self._response.read()
            except (OSError, http.client.HTTPException) as error:
                raise OrthancUnavailable(f"reading an answer: {error}") from error
        return self._content

    @property
    def content(self) -> bytes:
        return self.read_all()

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)

    def close(self) -> None:
        self._response.close()
        self._connection.close()


class OrthancClient:
    def __init__(self, rest_url: str) -> None:
        parts = urlsplit(rest_url.rstrip("/"))
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"expected an http:// Orthanc URL, got {rest_url!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._root = parts.path

    def _open(
        self,
        method: str,
        target: str,
        *,
        body: bytes | IO[bytes] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> OrthancAnswer:
        """Send one request on a new connection; OrthancUnavailable when Orthanc does not answer."""
        connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout, blocksize=CHUNK)
        try:
            connection.request(method, quote(self._root + target, safe=_URL_SAFE), body=body, headers=headers or {})
            return OrthancAnswer(connection, connection.getresponse())
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise OrthancUnavailable(f"{method} {target}: {error}") from error

    def _call(self, method: str, target: str, **kwargs: Any) -> OrthancAnswer:
        """The whole answer, read, its connection closed."""
        answer = self._open(method, target, **kwargs)
        try:
            answer.read_all()
        finally:
            answer.close()
        return answer

    def _json(self, method: str, target: str, **kwargs: Any) -> Any:
        answer = self._call(method, target, **kwargs)
        if answer.status_code >= 400:
            raise OrthancUnavailable(f"{method} {target}: {answer.status_code} {answer.text[:200]!r}")
        return answer.json()

    def is_up(self) -> bool:
        try:
            return self._call("GET", "/system", timeout=2).status_code == 200
        except OrthancUnavailable:
            return False

    def instance_exists(self, sop_instance_uid: str) -> bool:
        found = self._json("POST", "/tools/lookup", body=sop_instance_uid.encode())
        return any(item.get("Type") == "Instance" for item in found)

    def store(self, content: IO[bytes], size: int) -> StoredInstance:
        # A sized body: Content-Length, never chunked encoding (http.client reads `content` to its end).
        headers = {"Content-Type": "application/dicom", "Content-Length": str(size)}
        answer = self._call("POST", "/instances", body=content, headers=headers)
        if answer.status_code == 400:
            raise OrthancRejected(answer.text)
        if answer.status_code >= 400:
            raise OrthancUnavailable(f"POST /instances: {answer.status_code} {answer.text[:200]!r}")
        stored = answer.json()
        return StoredInstance(stored["ID"], stored.get("Status") == "AlreadyStored")

    def instance_metadata(self, study: str, series: str, sop: str) -> dict[str, Any] | None:
        target = f"/dicom-web/studies/{study}/series/{series}/instances/{sop}/metadata"
        answer = self._call("GET", target, headers={"Accept": "application/dicom+json"})
        if answer.status_code != 200:
            return None
        datasets = answer.json()
        return datasets[0] if datasets else None

    def find(self, level: Level, query: dict[str, str]) -> list[str]:
        """Orthanc ids at `level` whose UIDs equal `query` (UIDs hold no wildcard characters)."""
        found: list[str] = self._json("POST", "/tools/find", body=json.dumps({"Level": level, "Query": query}).encode())
        return found

    def children(self, level: Level, orthanc_id: str, child: Level) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = self._json("GET", f"/{_COLLECTION[level]}/{orthanc_id}/{_COLLECTION[child]}")
        return listed

    def delete(self, level: Level, orthanc_id: str) -> None:
        self._json("DELETE", f"/{_COLLECTION[level]}/{orthanc_id}")

    def open_dicomweb(self, method: str, path: str, query_string: str, accept: str | None) -> OrthancAnswer:
        """A streamed DICOMweb answer; the caller closes it. Orthanc sees the client's Accept, or none."""
        target = f"/dicom-web/{path}" + (f"?{query_string}" if query_string else "")
        headers = {"Accept-Encoding": "identity"} | ({"Accept": accept} if accept is not None else {})
        return self._open(method, target, headers=headers)
