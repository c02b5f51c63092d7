"""GET /vN/changefeed and /vN/changefeed/latest: query parameters as Azure binds them (reference 1.5, 2.11)."""

from __future__ import annotations

import re
from datetime import datetime

from tests.doubles.facade.changefeed import ChangeFeed
from tests.doubles.facade.messages import Request, Response, empty, json_body, text

_INTEGER = re.compile(r"[+-]?[0-9]+")
_LONG_MAX = 2**63 - 1
V1_LIMIT = (1, 100, 10)
V2_LIMIT = (1, 200, 100)


class InvalidParameter(ValueError):
    pass


def _integer(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name.lower())
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw.strip()):
        raise InvalidParameter(f"The value '{raw}' is not valid for {name}.")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidParameter(f"The {name} value {value} is out of range. It must be between {low} and {high}.")
    return value


def _boolean(params: dict[str, str], name: str, default: bool) -> bool:
    raw = params.get(name.lower())
    if raw is None:
        return default
    if raw.strip().lower() not in ("true", "false"):
        raise InvalidParameter(f"The value '{raw}' is not valid for {name}.")
    return raw.strip().lower() == "true"


def _time(params: dict[str, str], name: str) -> datetime | None:
    """Azure's MandatoryTimeZoneBinder: ISO 8601 with an explicit UTC offset, else 400."""
    raw = params.get(name.lower())
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidParameter(f"The value '{raw}' is not valid for {name}.") from None
    if value.tzinfo is None:
        raise InvalidParameter(f"The value '{raw}' for {name} must specify a time zone offset.")
    return value


def get_changefeed(request: Request, feed: ChangeFeed) -> Response:
    params = request.query()
    try:
        include_metadata = _boolean(params, "includeMetadata", True)
        if request.version == "1":
            low, high, default = V1_LIMIT
            limit = _integer(params, "limit", default, low, high)
            offset = _integer(params, "offset", 0, 0, _LONG_MAX)
            return json_body(200, feed.after_sequence(offset, limit, include_metadata=include_metadata))
        low, high, default = V2_LIMIT
        limit = _integer(params, "limit", default, low, high)
        offset = _integer(params, "offset", 0, 0, _LONG_MAX)
        start = _time(params, "startTime")
        end = _time(params, "endTime")
    except InvalidParameter as error:
        return text(400, str(error))
    if start is not None and end is not None and end <= start:
        return text(400, "The endTime must be later than the startTime.")
    return json_body(200, feed.in_window(start, end, offset, limit, include_metadata=include_metadata))


def get_changefeed_latest(request: Request, feed: ChangeFeed) -> Response:
    try:
        include_metadata = _boolean(request.query(), "includeMetadata", True)
    except InvalidParameter as error:
        return text(400, str(error))
    latest = feed.latest(include_metadata=include_metadata)
    if latest is None:
        # ChangeFeedController returns StatusCode(200, null) and Azure keeps ASP.NET's default
        # HttpNoContentOutputFormatter (DicomServerServiceCollectionExtensions.AddDicomServer does
        # not remove it), which turns a null 200 result into 204 with no body.
        return empty(204)
    return json_body(200, latest)
