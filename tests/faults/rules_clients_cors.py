"""Proxy rules for the browser-access checks (suites/clients/test_client_cors.py, CL-OHIF-CORS-*, CL-CS3D-CORS-*).

Orthanc has no CORS support: it answers a preflight (OPTIONS) with 404, and no answer carries
Access-Control-Allow-Origin.
The repair `cors-layer` is the CORS layer a deployment puts in front of it, doing what the usual reverse-proxy
configuration does (nginx: `if ($request_method = OPTIONS) { return 204; }` and `add_header ... always`): a preflight
from a browser is answered 204 with the origin, the methods and the headers allowed; every other request with an
Origin is forwarded and its answer, errors included, gets Access-Control-Allow-Origin. Each fault sits outside the
layer and breaks exactly one thing a browser needs of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from requests.structures import CaseInsensitiveDict

from tests.faults.proxy import Forward, ProxyRequest, ProxyResponse
from tests.faults.rules import ANY_DICOMWEB_PATH, ProxyRule

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = "Accept, Authorization, Content-Type"
ELSEWHERE = "http://elsewhere.example"


@dataclass(frozen=True)
class CorsRule(ProxyRule):
    """A rule on every request a browser sends cross-origin (any method, an Origin header); `preflight_only`: on
    the preflights alone."""

    preflight_only: bool = False

    def matches(self, request: ProxyRequest) -> bool:
        if "Origin" not in request.headers or re.search(self.path, request.path) is None:
            return False
        return not self.preflight_only or _is_preflight(request)


def _is_preflight(request: ProxyRequest) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def _cors_layer(request: ProxyRequest, forward: Forward) -> ProxyResponse:
    origin = request.headers["Origin"]
    if _is_preflight(request):
        headers = CaseInsensitiveDict(
            {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            }
        )
        return ProxyResponse(204, headers)
    return forward(request).with_headers(Access_Control_Allow_Origin=origin, Vary="Origin")


def _changed(change: Callable[[ProxyResponse], ProxyResponse]) -> Callable[[ProxyRequest, Forward], ProxyResponse]:
    return lambda request, forward: change(forward(request))


def _rule(
    name: str, breaks: str, action: Callable[[ProxyRequest, Forward], ProxyResponse], *, preflight_only: bool = False
) -> CorsRule:
    return CorsRule(name, breaks, "any", ANY_DICOMWEB_PATH, action, preflight_only=preflight_only)


def _allow_headers(value: str) -> Callable[[ProxyRequest, Forward], ProxyResponse]:
    return _changed(lambda response: response.with_headers(Access_Control_Allow_Headers=value))


def _no_origin_on_errors(response: ProxyResponse) -> ProxyResponse:
    return response.with_headers(Access_Control_Allow_Origin=None) if response.status >= 400 else response


CORS_REPAIRS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in (
        _rule("cors-layer", "CORS added in front of Orthanc: preflights answered, every answer shared", _cors_layer),
    )
}

CORS_FAULTS: dict[str, ProxyRule] = {
    rule.name: rule
    for rule in (
        _rule(
            "cors-preflight-404",
            "the preflight answered 404 (its CORS headers kept)",
            _changed(lambda response: response.with_status(404)),
            preflight_only=True,
        ),
        _rule(
            "cors-wrong-origin",
            "Access-Control-Allow-Origin names another origin",
            _changed(lambda response: response.with_headers(Access_Control_Allow_Origin=ELSEWHERE)),
        ),
        _rule(
            "cors-no-allow-authorization",
            "Access-Control-Allow-Headers without Authorization",
            _allow_headers("Accept, Content-Type"),
            preflight_only=True,
        ),
        _rule(
            "cors-allow-headers-wildcard",
            "Access-Control-Allow-Headers: * (which never covers Authorization)",
            _allow_headers("*"),
            preflight_only=True,
        ),
        _rule(
            "cors-no-allow-accept",
            "Access-Control-Allow-Headers without Accept",
            _allow_headers("Authorization, Content-Type"),
            preflight_only=True,
        ),
        _rule(
            "cors-no-allow-content-type",
            "Access-Control-Allow-Headers without Content-Type",
            _allow_headers("Accept, Authorization"),
            preflight_only=True,
        ),
        _rule(
            "cors-no-origin-on-errors",
            "no Access-Control-Allow-Origin on 4xx and 5xx answers",
            _changed(_no_origin_on_errors),
        ),
    )
}
