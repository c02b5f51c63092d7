"""The few Orthanc REST calls the facade needs (Orthanc's own API plus its DICOMweb root)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any, Literal

import requests

from tests.doubles.facade.messages import CHUNK

Level = Literal["Study", "Series", "Instance"]
_COLLECTION: dict[Level, str] = {"Study": "studies", "Series": "series", "Instance": "instances"}
TIMEOUT = (10.0, 600.0)


class OrthancRejected(Exception):
    """Orthanc refused to store a file (it answers 400 when it cannot parse it)."""


@dataclass(frozen=True)
class StoredInstance:
    orthanc_id: str
    already_stored: bool


class _Upload:
    """A sized, readable body, so requests sends Content-Length rather than chunked encoding."""

    def __init__(self, content: IO[bytes], size: int) -> None:
        self._content = content
        self._size = size

    def __len__(self) -> int:
        return self._size

    def read(self, size: int = -1) -> bytes:
        return self._content.read(size)

    def __iter__(self) -> Any:
        return iter(lambda: self._content.read(CHUNK), b"")


class OrthancClient:
    def __init__(self, rest_url: str) -> None:
        self.rest_url = rest_url.rstrip("/")
        self.dicomweb_url = f"{self.rest_url}/dicom-web"

    @staticmethod
    def _request(method: str, url: str, **kwargs: Any) -> requests.Response:
        # A new connection per call: Orthanc 1.10 drops idle keep-alive connections after 1 s
        # (local-targets.md) and, when asked for "Connection: close", still answers "keep-alive"
        # and then closes, so a pooled socket can die under the next request.
        kwargs.setdefault("timeout", TIMEOUT)
        return requests.request(method, url, **kwargs)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, f"{self.rest_url}{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def is_up(self) -> bool:
        try:
            return self._request("GET", f"{self.rest_url}/system", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def instance_exists(self, sop_instance_uid: str) -> bool:
        found = self._json("POST", "/tools/lookup", data=sop_instance_uid.encode())
        return any(item.get("Type") == "Instance" for item in found)

    def store(self, content: IO[bytes], size: int) -> StoredInstance:
        response = self._request(
            "POST",
            f"{self.rest_url}/instances",
            data=_Upload(content, size),
            headers={"Content-Type": "application/dicom"},
        )
        if response.status_code == 400:
            raise OrthancRejected(response.text)
        response.raise_for_status()
        answer = response.json()
        return StoredInstance(answer["ID"], answer.get("Status") == "AlreadyStored")

    def instance_metadata(self, study: str, series: str, sop: str) -> dict[str, Any] | None:
        url = f"{self.dicomweb_url}/studies/{study}/series/{series}/instances/{sop}/metadata"
        response = self._request("GET", url, headers={"Accept": "application/dicom+json"})
        if response.status_code != 200:
            return None
        datasets = response.json()
        return datasets[0] if datasets else None

    def find(self, level: Level, query: dict[str, str]) -> list[str]:
        """Orthanc ids at `level` whose UIDs equal `query` (UIDs hold no wildcard characters)."""
        found: list[str] = self._json("POST", "/tools/find", json={"Level": level, "Query": query})
        return found

    def children(self, level: Level, orthanc_id: str, child: Level) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = self._json("GET", f"/{_COLLECTION[level]}/{orthanc_id}/{_COLLECTION[child]}")
        return listed

    def delete(self, level: Level, orthanc_id: str) -> None:
        self._json("DELETE", f"/{_COLLECTION[level]}/{orthanc_id}")

    def open_dicomweb(self, method: str, path: str, query_string: str, accept: str | None) -> requests.Response:
        """A streamed DICOMweb answer; the caller closes it."""
        url = f"{self.dicomweb_url}/{path}" + (f"?{query_string}" if query_string else "")
        # Header None removes requests' default "Accept: */*": Orthanc must see what the client sent.
        headers: dict[str, str | None] = {"Accept": accept, "Accept-Encoding": "identity"}
        return self._request(method, url, headers=headers, stream=True)
