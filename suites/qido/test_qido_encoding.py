"""QIDO-RS values that need percent-encoding (spaces, ^, non-ASCII letters, wildcards): decoded before matching,
and non-ASCII names returned as stored.

Each query string is written here byte for byte, so what the server receives does not depend on the HTTP
library's encoder.
"""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.qido import check_finds, check_returned_values, encode_query, search
from dicomweb_conformance.checks.qido_matching import (
    INSTANCES_ROUTE,
    SERIES_ROUTE,
    STANDARD_RULES,
    STUDIES_ROUTE,
    MatchRules,
    Route,
    expected_results,
)
from dicomweb_conformance.corpora.qido_depth_corpus import QidoCorpus
from dicomweb_conformance.dicom.levels import LEVEL_KEY
from dicomweb_conformance.transport.client import DicomwebClient

# (parameter, percent-encoded value, the value it decodes to)
EncodedCase = tuple[str, str, str]

DECODED_CASES = [
    pytest.param(("PatientName", "Smith%5EJohn", "Smith^John"), id="caret"),
    pytest.param(("PatientName", "Van%20Dyke%5EDick", "Van Dyke^Dick"), id="space-and-caret"),
    pytest.param(("ReferringPhysicianName", "de%20la%20Cruz", "de la Cruz"), id="spaces"),
    pytest.param(("PatientName", "M%C3%BCller%5EJ%C3%BCrgen", "Müller^Jürgen"), id="utf8"),
    # RFC 3986 2.1: upper- and lower-case hexadecimal digits are equivalent.
    pytest.param(("PatientName", "M%c3%bcller%5eJ%c3%bcrgen", "Müller^Jürgen"), id="utf8-lowercase-hex"),
]
# (the letter after the PatientID prefix, the wildcard percent-encoded, the wildcard): on PatientID (LO), where
# PS3.4 C.2.2.2.4 makes wild card matching a SHALL; on person names it is implementation dependent.
WILDCARD_CASES = [
    pytest.param(("A", "%2A", "*"), id="star"),
    pytest.param(("B", "%3F", "?"), id="question-mark"),
]


def check_encoded(client: DicomwebClient, corpus: QidoCorpus, rules: MatchRules, encoded: EncodedCase) -> None:
    parameter, sent, decoded = encoded
    scope = [corpus.scope]
    expected = expected_results(corpus, STUDIES_ROUTE, [*scope, (parameter, decoded)], rules)
    raw = f"{encode_query(scope)}&{parameter}={sent}"
    response = search(client, STUDIES_ROUTE.path(corpus), raw=raw)
    check_finds(response, "StudyInstanceUID", expected, f"GET studies ?{raw} (meaning {parameter}={decoded})")


@pytest.mark.req("DW-QIDO-170")
@pytest.mark.parametrize("encoded", DECODED_CASES)
def test_percent_encoded_value_is_decoded(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, qido_match_rules: MatchRules, encoded: EncodedCase
) -> None:
    """A percent-encoded name finds the study whose stored name it decodes to."""
    check_encoded(client, qido_depth_corpus, qido_match_rules, encoded)


@pytest.mark.req("DW-QIDO-171")
@pytest.mark.parametrize("encoded", WILDCARD_CASES)
def test_percent_encoded_wildcard(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, encoded: tuple[str, str, str]
) -> None:
    """A wildcard in a PatientID sent as %2A or %3F still matches as a wildcard."""
    letter, sent, wildcard = encoded
    # PatientID is DWCS-<run>-Q<nonce>-<code>: its characters need no percent-encoding (RFC 3986 2.3).
    prefix = qido_depth_corpus.value("A", "PatientID")[:-2] + letter
    case = ("PatientID", prefix + sent, prefix + wildcard)
    check_encoded(client, qido_depth_corpus, STANDARD_RULES, case)


NAME_LEVELS = [
    pytest.param(STUDIES_ROUTE, "A", id="study"),
    pytest.param(SERIES_ROUTE, "A2", id="series"),
    pytest.param(INSTANCES_ROUTE, "A2-1", id="instance"),
]


@pytest.mark.req("DW-QIDO-172")
@pytest.mark.parametrize(("route", "entity"), NAME_LEVELS)
def test_non_ascii_name_returned_as_stored(
    client: DicomwebClient, qido_depth_corpus: QidoCorpus, route: Route, entity: str
) -> None:
    """Müller^Jürgen, stored in ISO_IR 192, comes back as Müller^Jürgen in study, series and instance results."""
    uid = qido_depth_corpus.uid(entity)
    query = [qido_depth_corpus.scope, (LEVEL_KEY[route.level], uid)]
    response = search(client, route.path(qido_depth_corpus), query)
    check_returned_values(response, qido_depth_corpus, route, [uid], ["PatientName"])
