"""Entity tags on metadata (reference 1.2 "Metadata caching", 2.8) and If-None-Match (RFC 9110 13.1.2).

Azure derives its metadata ETag from the instances' versions; this facade uses a hash of the
metadata body Orthanc answers, which changes exactly when a stored or deleted instance changes
that body.
"""

from __future__ import annotations

import hashlib

from tests.doubles.facade.media import split_outside_quotes


def entity_tag(body: bytes) -> str:
    """A strong entity tag (RFC 9110 8.8.3) of `body`."""
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def _opaque(tag: str) -> str:
    # RFC 9110 8.8.3.2: If-None-Match uses the weak comparison, so a W/ prefix does not matter.
    return tag.strip().removeprefix("W/")


def none_match_fails(if_none_match: str | None, current: str) -> bool:
    """True when If-None-Match names the current representation (or is "*"): the answer is then 304."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(_opaque(tag) == _opaque(current) for tag in split_outside_quotes(if_none_match, ",") if tag.strip())
