"""No credential reaches a report: headers, query strings and known secret values are masked."""

from __future__ import annotations

from dicomweb_conformance.transport.exchange import Exchange
from dicomweb_conformance.transport.redaction import REDACTED, Redactor


def test_authorization_keeps_its_scheme_only() -> None:
    redactor = Redactor()
    assert redactor.header("Authorization", "Bearer eyJabc.def") == f"Bearer {REDACTED}"
    assert redactor.header("authorization", "Basic dXNlcjpwdw==") == f"Basic {REDACTED}"
    assert redactor.header("Cookie", "session=1") == REDACTED
    assert redactor.header("Accept", "application/dicom+json") == "application/dicom+json"


def test_known_secrets_and_token_query_parameters_are_masked_anywhere() -> None:
    redactor = Redactor()
    redactor.add_secret("s3cr3t-token-value")
    assert "s3cr3t" not in redactor.text("error: token s3cr3t-token-value rejected")
    assert redactor.text("https://x/?sig=abc&limit=1") == f"https://x/?sig={REDACTED}&limit=1"


def test_an_exchange_and_its_curl_line_carry_no_token() -> None:
    redactor = Redactor()
    redactor.add_secret("tok-123456")
    exchange = Exchange.capture(
        "GET", "https://x/studies", {"Authorization": "Bearer tok-123456"}, None, redactor=redactor
    )
    text = exchange.render()
    assert "tok-123456" not in text
    assert "Authorization: Bearer $DICOMWEB_TOKEN" in exchange.curl()
