"""Property checks on generated instances: each is stored, then retrieved whole, as metadata and as frames.

Every generated instance is valid per PS3.5 (dicom/generators.py lists what generation leaves out and
why), so when a retrieval differs from what was stored the server is at fault. Hypothesis shrinks a failure to a
small instance and prints it with the blob that replays it; the exchange is in the failure message.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given

from dicomweb_conformance.checks.common import expect_status, fail, multipart_parts
from dicomweb_conformance.checks.properties import (
    store_generated,
)
from dicomweb_conformance.checks.store import check_metadata_lists, check_retrievable
from dicomweb_conformance.dicom.annex_f import (
    metadata_differences,
    reference_json,
)
from dicomweb_conformance.dicom.generated_instances import (
    FAMILIES,
    DatasetSpec,
    ElementSpec,
    FramesRequest,
    PrivateBlockSpec,
    dataset_specs,
    element_spec,
    frames_requests,
)
from dicomweb_conformance.dicom.generators import (
    UTF_8,
)
from dicomweb_conformance.dicom.samples import SampleInstance
from dicomweb_conformance.transport.client import DicomwebClient
from dicomweb_conformance.transport.store import DICOM_JSON, Dicomweb, instance_path

# Explicit examples run first under every hypothesis profile: each pins a failure class seen on a real server
# (see the deviations in targets/*.toml), so a declared deviation never depends on what generation happens to hit.
RICH_INSTANCE = DatasetSpec(
    charset=UTF_8,
    elements=(
        element_spec("PatientName", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        element_spec("ProcedureCodeSequence", ((element_spec("StationName", "Ünï"),),)),
    ),
    private_blocks=(PrivateBlockSpec(0x0009, "DWCS EXAMPLE", (ElementSpec(0x10, "LO", "privé"),)),),
    frames=3,
    samples_per_pixel=3,
)
NATIVE_FRAMES = 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1'
PROBLEMS_SHOWN = 12


def check_metadata_is_the_stored_instance(client: DicomwebClient, profile: str, instance: SampleInstance) -> None:
    """The instance's metadata equals pydicom's DICOM JSON of the stored file, as far as Annex F lets it vary."""
    response = client.get(instance_path(instance) + "/metadata", accept=DICOM_JSON)
    [dataset] = check_metadata_lists(response, [instance], "metadata of the generated instance")
    # Azure conformance statement (reference 1.2, Metadata): attributes of binary VRs are left out.
    problems = metadata_differences(reference_json(instance.dataset), dataset, binary_may_be_omitted=profile == "azure")
    if problems:
        raise fail(
            "metadata differs from the stored instance (PS3.18 10.4.3.3.2, Annex F)",
            expected="pydicom's DICOM JSON of the stored file, varying only as Annex F allows",
            actual="\n    ".join(problems[:PROBLEMS_SHOWN]),
            response=response,
        )


@pytest.mark.req("DW-PROP-001")
@given(spec=dataset_specs(FAMILIES))
@example(spec=RICH_INSTANCE)
def test_any_valid_instance_comes_back_byte_identical(
    dicomweb: Dicomweb, client: DicomwebClient, run_id: str, spec: DatasetSpec
) -> None:
    """Any valid generated instance (all VRs, three character sets, sequences, private tags, 1-4 frames) stored
    with STOW comes back byte for byte with transfer-syntax=*."""
    instance = store_generated(dicomweb, spec, run_id)
    check_retrievable(client, [instance], "retrieve the generated instance")


@pytest.mark.req("DW-PROP-002")
@given(spec=dataset_specs(frozenset({"text"})))
# PS3.5 6.2: a backslash in LT is text, not a value delimiter.
@example(spec=DatasetSpec(elements=(element_spec("AdditionalPatientHistory", "C:\\dicom\\in"),)))
def test_metadata_of_text_attributes_equals_the_stored_values(
    dicomweb: Dicomweb, client: DicomwebClient, target_profile: str, run_id: str, spec: DatasetSpec
) -> None:
    """Metadata of generated string, name, date/time, UID, URI and tag attributes, in the default repertoire,
    ISO_IR 100 or ISO_IR 192, equals pydicom's DICOM JSON of the stored instance."""
    check_metadata_is_the_stored_instance(client, target_profile, store_generated(dicomweb, spec, run_id))


@pytest.mark.req("DW-PROP-003")
@given(spec=dataset_specs(frozenset({"numbers"})))
@example(
    spec=DatasetSpec(
        elements=(
            element_spec("PatientWeight", "1E10"),
            element_spec("EventTimeOffset", -2.5e-300),
            element_spec("FileOffsetInContainer", 2**63 + 5),
        )
    )
)
def test_metadata_of_numeric_attributes_equals_the_stored_values(
    dicomweb: Dicomweb, client: DicomwebClient, target_profile: str, run_id: str, spec: DatasetSpec
) -> None:
    """Metadata of generated IS, DS, FL, FD, SS, US, SL, UL, SV and UV attributes, single and multi-valued,
    carries the stored numbers (JSON numbers, or strings where Table F.2.3-1 allows)."""
    check_metadata_is_the_stored_instance(client, target_profile, store_generated(dicomweb, spec, run_id))


@pytest.mark.req("DW-PROP-004")
@given(spec=dataset_specs(frozenset({"binary"})))
@example(spec=DatasetSpec(elements=(element_spec("VerticesOfThePolygonalOutline", b"\x00\x00\x80?"),)))
def test_metadata_of_binary_attributes_is_inline_or_bulk_data(
    dicomweb: Dicomweb, client: DicomwebClient, target_profile: str, run_id: str, spec: DatasetSpec
) -> None:
    """Metadata gives generated OB, OW, OF, OD, OL, OV and UN attributes as InlineBinary holding the stored bytes
    or as a BulkDataURI."""
    check_metadata_is_the_stored_instance(client, target_profile, store_generated(dicomweb, spec, run_id))


@pytest.mark.req("DW-PROP-005")
@given(spec=dataset_specs(frozenset({"sequences", "private"})))
# F.2.2: an empty item is an empty object, wherever it stands.
@example(spec=DatasetSpec(elements=(element_spec("ProcedureCodeSequence", ((element_spec("CodeValue", "1"),), ())),)))
@example(
    spec=DatasetSpec(
        elements=(
            element_spec(
                "ProcedureCodeSequence", ((element_spec("CodeValue", "1"),), (), (element_spec("CodeValue", "2"),))
            ),
        )
    )
)
def test_metadata_keeps_sequences_and_private_elements(
    dicomweb: Dicomweb, client: DicomwebClient, target_profile: str, run_id: str, spec: DatasetSpec
) -> None:
    """Metadata keeps generated sequences (nested two levels, empty items and empty sequences included) and
    private elements with their private creators, item for item and value for value."""
    check_metadata_is_the_stored_instance(client, target_profile, store_generated(dicomweb, spec, run_id))


def describe_parts(parts: list[bytes], stored: list[bytes]) -> list[str]:
    return [f"frame {stored.index(p) + 1}" if p in stored else f"{len(p)} bytes, no stored frame" for p in parts]


@pytest.mark.req("DW-PROP-006")
@given(asked=frames_requests())
@example(asked=FramesRequest(DatasetSpec(frames=3, samples_per_pixel=3), (3, 1)))
def test_frames_are_the_stored_pixel_data_in_the_order_asked(
    dicomweb: Dicomweb, client: DicomwebClient, run_id: str, asked: FramesRequest
) -> None:
    """Frames of a generated 1-4 frame 8-bit MONOCHROME2 or RGB instance, asked for in any order, come back as
    one part per frame in that order, each the frame's native pixel data."""
    instance = store_generated(dicomweb, asked.spec, run_id)
    path = f"{instance_path(instance)}/frames/{','.join(map(str, asked.frames))}"
    with client.streamed(path, accept=NATIVE_FRAMES) as response:
        expect_status(response, 200, "frames retrieve")
        parts = [part.content for part in multipart_parts(response, "frames retrieve")]
    stored = instance.pixel_frames()
    if parts != [stored[number - 1] for number in asked.frames]:
        raise fail(
            f"frames {list(asked.frames)} are not the stored frames in the order asked (PS3.18 10.4.1)",
            expected=[f"frame {number}" for number in asked.frames],
            actual=describe_parts(parts, stored),
            response=response,
        )
