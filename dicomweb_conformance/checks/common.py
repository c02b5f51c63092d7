"""Reusable checks. Each raises ConformanceFailure with the expected and actual values and the exchange."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any, NoReturn, TypeVar

import pytest
import requests

from dicomweb_conformance.config.deviations import FailureSignature
from dicomweb_conformance.transport.client import exchange_of
from dicomweb_conformance.transport.exchange import Exchange
from dicomweb_conformance.transport.multipart import MultipartError, Part, parse_media_type
from dicomweb_conformance.transport.multipart_decoder import iter_parts

T = TypeVar("T")


class ConformanceFailure(AssertionError):
    """The server broke a requirement. Only this exception satisfies a declared deviation.

    `requirement` is the one named where the failure is raised, else the requirement of the check it is reported
    in (attach_requirement, called by the plugin before the report is made)."""

    def __init__(
        self,
        summary: str,
        *,
        expected: Any,
        actual: Any,
        exchange: Exchange | None = None,
        requirement: str | None = None,
    ):
        self.summary = summary
        self.expected = expected
        self.actual = actual
        self.exchange = exchange
        self.requirement = requirement
        super().__init__(summary)

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        lines = [
            f"[{self.requirement or 'no requirement'}] {self.summary}",
            f"  expected: {self.expected}",
            f"  actual:   {self.actual}",
        ]
        if self.exchange is not None:
            lines.append(f"  exchange: {self.exchange.method} {self.exchange.url} -> {self.exchange.status}")
            lines.append(f"  reproduce: {self.exchange.curl()}")
        return "\n".join(lines)


class DataLossFailure(ConformanceFailure):
    """The server answered success but did not keep what was sent: the worst finding there is."""


def failure_signature(failure: ConformanceFailure, last_exchange: Exchange | None) -> FailureSignature:
    """The failure a deviation must declare: the status of the exchange that broke the rule (the failure's own,
    else the check's last one) and whether data was lost."""
    exchange = failure.exchange or last_exchange
    return FailureSignature(exchange.status if exchange else None, isinstance(failure, DataLossFailure))


class BlockedBy(Exception):
    """A check could not run because the server broke a step it depends on: that step's requirement FAILs
    (`failure`), and the check is BLOCKED, which fails the run (never a green skip)."""

    def __init__(self, step: str, failure: ConformanceFailure):
        self.step = step
        self.failure = failure
        super().__init__(step)

    def __str__(self) -> str:
        return f"blocked: {self.step} failed\n{self.failure.render()}"


class NotApplicable(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """The target does not claim what the check needs (a capability, an API version): no verdict."""


class Untestable(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """A precondition the user did not provide is missing: no verdict on the server."""


def not_applicable(reason: str) -> NoReturn:
    """The target does not claim what the check needs: NOT-APPLICABLE."""
    raise NotApplicable(f"NOT-APPLICABLE: {reason}")


def attach_requirement(error: BaseException | None, requirement: str) -> None:
    """A failure raised without naming its requirement belongs to the check it is reported in; so does the failure
    a blocked step carries, and any failure chained to either."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        failure = error.failure if isinstance(error, BlockedBy) else error
        if isinstance(failure, ConformanceFailure) and failure.requirement is None:
            failure.requirement = requirement
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                attach_requirement(inner, requirement)
        error = error.__cause__ or error.__context__


def untestable(reason: str) -> NoReturn:
    """A precondition the check needs is missing: no verdict on the server."""
    raise Untestable(f"UNTESTABLE: {reason}")


def data_loss(
    summary: str,
    *,
    expected: Any,
    actual: Any,
    response: requests.Response | None = None,
    requirement: str | None = None,
) -> DataLossFailure:
    return DataLossFailure(
        summary,
        expected=expected,
        actual=actual,
        exchange=exchange_of(response) if response is not None else None,
        requirement=requirement,
    )


def fail(
    summary: str,
    *,
    expected: Any,
    actual: Any,
    response: requests.Response | None = None,
    requirement: str | None = None,
) -> ConformanceFailure:
    return ConformanceFailure(
        summary,
        expected=expected,
        actual=actual,
        exchange=exchange_of(response) if response is not None else None,
        requirement=requirement,
    )


def expect_status(response: requests.Response, expected: int, what: str) -> None:
    if response.status_code != expected:
        raise fail(f"{what}: wrong status", expected=expected, actual=status_line(response), response=response)


def status_line(response: requests.Response) -> str:
    """Status, reason and the first 200 characters of the body, for a failure's 'actual'."""
    body = response.text[:200] if not response.raw or response._content_consumed else "(streamed)"  # type: ignore[attr-defined]
    return f"{response.status_code} {response.reason} {body!r}"


def media_type(response: requests.Response) -> tuple[str, dict[str, str]]:
    header = response.headers.get("Content-Type", "")
    try:
        return parse_media_type(header)
    except MultipartError:
        raise fail(
            "Content-Type is not a valid media type",
            expected="type/subtype[; params]",
            actual=header,
            response=response,
        ) from None


def expect_media_type(response: requests.Response, expected: str, what: str) -> dict[str, str]:
    found, params = media_type(response)
    if found != expected:
        raise fail(
            f"{what}: wrong Content-Type",
            expected=expected,
            actual=response.headers.get("Content-Type"),
            response=response,
        )
    return params


def json_body(response: requests.Response, what: str) -> Any:
    try:
        return json.loads(response.content)
    except ValueError as error:
        raise fail(
            f"{what}: body is not JSON",
            expected="a JSON document",
            actual=f"{error}: {response.content[:120]!r}",
            response=response,
        ) from None


def dicom_json_array(response: requests.Response, what: str) -> list[dict[str, Any]]:
    body = json_body(response, what)
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise fail(
            f"{what}: not a JSON array of datasets", expected="[{...}, ...]", actual=str(body)[:200], response=response
        )
    return body


def multipart_parts(response: requests.Response, what: str) -> Iterable[Part]:
    """Stream the parts of a multipart/related response; a malformed body is the server's failure."""
    found, params = media_type(response)
    if found != "multipart/related":
        raise fail(
            f"{what}: not a multipart/related response",
            expected="multipart/related",
            actual=response.headers.get("Content-Type"),
            response=response,
        )
    boundary = params.get("boundary")
    if not boundary:
        raise fail(
            f"{what}: multipart response without a boundary",
            expected="boundary=...",
            actual=response.headers.get("Content-Type"),
            response=response,
        )
    try:
        yield from iter_parts(response.iter_content(256 * 1024), boundary)
    except MultipartError as error:
        raise fail(
            f"{what}: malformed multipart body (RFC 2046 5.1)",
            expected="a well-formed multipart/related body",
            actual=str(error),
            response=response,
        ) from None


def poll(probe: Callable[[], T | None], *, timeout: float, interval: float) -> T | None:
    """Ask until the answer is truthy or time runs out; returns the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer or time.monotonic() >= deadline:
            return answer
        time.sleep(interval)
