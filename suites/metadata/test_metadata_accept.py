"""Metadata negotiation: a metadata resource asked for without an Accept header (PS3.18 8.7.7)."""

from __future__ import annotations

import pytest

from dicomweb_conformance.checks.common import expect_status
from dicomweb_conformance.corpora.metadata import COVERAGE, MetadataCorpus
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import instance_path


@pytest.mark.req("DW-META-030")
@pytest.mark.parametrize("level", ["study", "instance"])
def test_metadata_without_accept_is_not_acceptable(
    client: DicomwebClient, metadata_corpus: MetadataCorpus, level: str
) -> None:
    """GET the study's or an instance's metadata with no Accept header: 406 Not Acceptable."""
    resource = f"studies/{metadata_corpus.study_uid}" if level == "study" else instance_path(metadata_corpus[COVERAGE])
    response = client.get_without_accept(f"{resource}/metadata")
    expect_status(response, 406, f"{level} metadata without Accept")
