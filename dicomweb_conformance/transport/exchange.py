"""A recorded HTTP exchange: what a failure shows and how to reproduce it."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

from dicomweb_conformance.transport.redaction import REDACTOR, Redactor

BODY_PREVIEW_BYTES = 600
TEXTUAL_MEDIA = ("json", "text", "xml", "html")


def summarize_body(body: bytes | None, content_type: str | None, *, streamed_bytes: int | None = None) -> str:
    if streamed_bytes is not None and body is None:
        return f"({streamed_bytes} bytes, streamed)"
    if not body:
        return "(empty)"
    media = (content_type or "").lower()
    if any(kind in media for kind in TEXTUAL_MEDIA):
        text = body[:BODY_PREVIEW_BYTES].decode("utf-8", errors="replace")
        more = f" ... ({len(body)} bytes in all)" if len(body) > BODY_PREVIEW_BYTES else ""
        return text + more
    return f"({len(body)} bytes of {content_type or 'unknown type'})"


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    elapsed_s: float = 0.0
    error: str | None = None

    @classmethod
    def capture(
        cls,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        *,
        redactor: Redactor = REDACTOR,
    ) -> Exchange:
        content_type = headers.get("Content-Type")
        return cls(
            method=method,
            url=redactor.text(url),
            request_headers=redactor.headers(headers),
            request_body=redactor.text(summarize_body(body, content_type)),
        )

    def record_response(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes | None,
        elapsed: float,
        *,
        streamed_bytes: int | None = None,
    ) -> None:
        self.status = status
        self.response_headers = REDACTOR.headers(headers)
        self.response_body = REDACTOR.text(
            summarize_body(body, headers.get("Content-Type"), streamed_bytes=streamed_bytes)
        )
        self.elapsed_s = elapsed

    def curl(self) -> str:
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name.lower() in ("content-length", "user-agent", "accept-encoding", "connection"):
                continue
            if name.lower() == "authorization" and " " in value:
                value = value.split(" ", 1)[0] + " $DICOMWEB_TOKEN"
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body != "(empty)":
            parts += ["--data-binary", "@request-body.bin"]
        return " ".join(parts)

    def render(self) -> str:
        lines = [f"> {self.method} {self.url}"]
        lines += [f"> {name}: {value}" for name, value in self.request_headers.items()]
        lines.append(f"> body: {self.request_body}")
        if self.error:
            lines.append(f"< no response: {self.error}")
        else:
            lines.append(f"< {self.status} ({self.elapsed_s * 1000:.0f} ms)")
            lines += [f"< {name}: {value}" for name, value in self.response_headers.items()]
            lines.append(f"< body: {self.response_body}")
        lines.append(f"reproduce: {self.curl()}")
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps(self.__dict__, indent=1)
