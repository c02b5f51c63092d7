"""Routing: the Azure DICOM service's versioned routes, each mapped to the module that answers it."""

from __future__ import annotations

from collections.abc import Callable

from tests.doubles.facade.changefeed_api import get_changefeed, get_changefeed_latest
from tests.doubles.facade.delete import delete_resource
from tests.doubles.facade.messages import Request, Response, text
from tests.doubles.facade.proxy import forward_metadata, forward_qido, forward_retrieve
from tests.doubles.facade.state import FacadeState
from tests.doubles.facade.stow import post_studies

Handler = Callable[[Request, FacadeState], Response]

# "1.0-prerelease" is listed as Azure lists it (reference 1.0); this facade serves v1 and v2.
SUPPORTED_VERSIONS = "1.0-prerelease, 1, 2"
VERSIONS = {"v1": "1", "v2": "2"}
_ANY = "{}"
_INSTANCE = ("studies", _ANY, "series", _ANY, "instances", _ANY)


def _changefeed(request: Request, state: FacadeState) -> Response:
    return get_changefeed(request, state.feed)


def _changefeed_latest(request: Request, state: FacadeState) -> Response:
    return get_changefeed_latest(request, state.feed)


ROUTES: list[tuple[tuple[str, ...], dict[str, Handler]]] = [
    (("studies",), {"GET": forward_qido, "POST": post_studies}),
    (("series",), {"GET": forward_qido}),
    (("instances",), {"GET": forward_qido}),
    (("studies", _ANY), {"GET": forward_retrieve, "POST": post_studies, "DELETE": delete_resource}),
    (("studies", _ANY, "metadata"), {"GET": forward_metadata}),
    (("studies", _ANY, "series"), {"GET": forward_qido}),
    (("studies", _ANY, "instances"), {"GET": forward_qido}),
    (("studies", _ANY, "series", _ANY), {"GET": forward_retrieve, "DELETE": delete_resource}),
    (("studies", _ANY, "series", _ANY, "metadata"), {"GET": forward_metadata}),
    (("studies", _ANY, "series", _ANY, "instances"), {"GET": forward_qido}),
    (_INSTANCE, {"GET": forward_retrieve, "DELETE": delete_resource}),
    ((*_INSTANCE, "metadata"), {"GET": forward_metadata}),
    ((*_INSTANCE, "rendered"), {"GET": forward_retrieve}),
    ((*_INSTANCE, "frames", _ANY), {"GET": forward_retrieve}),
    ((*_INSTANCE, "frames", _ANY, "rendered"), {"GET": forward_retrieve}),
    (("changefeed",), {"GET": _changefeed}),
    (("changefeed", "latest"), {"GET": _changefeed_latest}),
]


def _matches(pattern: tuple[str, ...], segments: list[str]) -> bool:
    return len(pattern) == len(segments) and all(
        expected == actual or (expected == _ANY and actual != "")
        for expected, actual in zip(pattern, segments, strict=True)
    )


def route(request: Request, state: FacadeState) -> Response:
    for pattern, handlers in ROUTES:
        if _matches(pattern, request.segments):
            handler = handlers.get(request.method)
            if handler is None:
                response = text(405, f"The method {request.method} is not allowed on this resource.")
                response.headers["Allow"] = ", ".join(handlers)
                return response
            return handler(request, state)
    return text(404, "The requested resource was not found.")
