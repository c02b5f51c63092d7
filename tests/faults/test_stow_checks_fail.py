"""Every STOW-RS depth and bad-input check can fail, and can pass: the five modules run through a fault proxy in
front of a real Orthanc (standard profile) and of the Azure facade over Orthanc (azure profile).

The tables are per check (node id), because several parametrized checks of one requirement behave differently
on one server (Orthanc refuses some malformed bodies and answers 200 to others).

- control: no rule. A check the server keeps reports PASS; one it breaks (a confirmed deviation, so the check
  is seen failing against a real server) reports FAIL. A check Orthanc breaks is seen passing on the facade,
  or, where only the standard profile asks for it, under a repair.
- repair: a rule that hides the deviation; the check must then PASS, so it is not a check that always fails.
- fault: a rule that breaks one promise (outermost, on top of the repair where there is one); the check must
  then FAIL.

The cases, their runs and the tests are those of area_harness.py, over the runner and the proxy of
test_every_check_can_fail.py; the rules are in rules_stow.py plus a few of rules.py. Target files are copies
of the project's own without [[deviation]] entries, run with --dicomweb-strict, so every check reports its
plain verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tests.faults.area_harness import BY_CHECK_NAME, FaultArea, suite_pool_fixture
from tests.faults.rules import FAULTS, ProxyRule
from tests.faults.rules_stow import STOW_FAULTS, STOW_REPAIRS

STOW_CHECKS = [
    *(f"suites/stow/test_stow_{topic}.py" for topic in ("response", "failures", "media_types", "large")),
    "suites/robustness/test_bad_input.py",
]
RULES: Mapping[str, ProxyRule] = {**FAULTS, **STOW_FAULTS, **STOW_REPAIRS}


@dataclass(frozen=True)
class Expectation:
    """How one check is seen failing and passing on one server."""

    faults: tuple[str, ...] = ()
    repair: str | None = None  # the server breaks the check; this rule hides that
    breaks: bool = False  # the server breaks the check; it is seen passing on the other server

    @property
    def fails_without_rules(self) -> bool:
        return self.breaks or self.repair is not None

    def rules(self, fault: str | None) -> tuple[ProxyRule, ...]:
        # FaultProxy applies rules in order, the first one outermost: the fault changes the repaired answer.
        broken = (RULES[fault],) if fault else ()
        return broken + ((RULES[self.repair],) if self.repair else ())


BREAKS = Expectation(breaks=True)
PASSES = Expectation()
STORES_NOTHING = Expectation(("stow-accepts-anything",))
WRONG_MEDIA_TYPE = Expectation(("stow-content-type-json",))
ROUND_TRIP = Expectation(("stow-stores-nothing", "wado-instance-flips-a-byte"))
NOT_DICOM = Expectation(("stow-accepts-anything", "stow-server-error"))
# A refused instance must be shown absent: a 500 where the 404 was due proves nothing (issue 8).
CUT_DICOM = Expectation(("stow-accepts-anything", "wado-serves-refused-instances", "wado-absence-answers-500"))


def _nodes(test: str, params: Sequence[str], expectation: Expectation) -> dict[str, Expectation]:
    return {f"{test}[{param}]": expectation for param in params}


ORTHANC_CHECKS: dict[str, Expectation] = {
    # test_stow_response.py
    "test_reference_items_carry_the_instance_reference_and_retrieve_url": Expectation(
        ("stow-retrieve-url-as-ut", "stow-drops-retrieve-url")
    ),
    "test_every_reference_retrieve_url_retrieves_its_instance": Expectation(
        ("stow-swaps-retrieve-urls", "wado-instance-flips-a-byte")
    ),
    "test_store_to_studies_answers_a_top_level_retrieve_url": Expectation(("stow-drops-study-retrieve-url",)),
    "test_store_to_a_study_answers_its_retrieve_url": Expectation(
        ("stow-study-retrieve-url-elsewhere", "stow-drops-study-retrieve-url", "wado-study-flips-a-byte")
    ),
    "test_refused_store_still_answers_the_top_level_retrieve_url": Expectation(
        ("stow-drops-study-retrieve-url-of-a-refusal",), repair="repair-stow-refusal-retrieve-url"
    ),
    **_nodes(
        "test_store_response_is_well_formed_dicom_json",
        ("all-stored", "partly-stored", "none-stored"),
        Expectation(("stow-response-keys-out-of-order",)),
    ),
    "test_failed_items_name_the_instance_and_a_failure_reason": Expectation(
        ("stow-failed-items-lose-reason", "stow-drops-failed-sequence")
    ),
    "test_failure_reasons_come_from_table_i_2_2": Expectation(("stow-failure-reason-outside-table",)),
    "test_a_part_that_is_not_dicom_is_refused": NOT_DICOM,
    # test_stow_failures.py
    "test_partial_failure_answers_202": BREAKS,
    "test_partial_failure_lists_both_sequences": Expectation(
        ("stow-drops-failed-sequence", "stow-failed-items-lose-reason")
    ),
    "test_partial_failure_keeps_the_accepted_instance": Expectation(("stow-study-drops-matching-parts",)),
    "test_partial_failure_does_not_store_the_rejected_instance": Expectation(
        ("stow-study-ignores-path", "wado-serves-refused-instances", "wado-absence-answers-500")
    ),
    "test_total_failure_answers_409_listing_every_instance": Expectation(
        ("stow-study-ignores-path", "stow-drops-failed-sequence")
    ),
    "test_total_failure_stores_nothing": Expectation(
        ("stow-study-ignores-path", "wado-serves-refused-instances", "wado-absence-answers-500")
    ),
    "test_failure_response_is_labelled_dicom_json": BREAKS,
    **_nodes("test_an_unusable_part_beside_a_valid_one_is_never_200", ("empty-part", "text-part"), BREAKS),
    **_nodes("test_invalid_study_uid_in_the_path_is_400", ("65-characters", "letters"), BREAKS),
    "test_study_uid_with_an_empty_component_in_the_path_is_400": Expectation(
        ("wado-serves-refused-instances",), repair="repair-stow-empty-uid-component"
    ),
    # A SHOULD on the standard profile (NON-STRICT without --dicomweb-strict); the facade keeps it.
    **_nodes("test_invalid_study_uid_in_the_dataset_is_refused", ("letters", "bar"), BREAKS),
    "test_same_instance_twice_in_one_request": Expectation(("stow-status-202", "stow-stores-nothing")),
    "test_storing_again_keeps_the_instance": Expectation(("stow-stores-nothing",)),
    "test_zero_parts_is_bad_request": Expectation(("stow-accepts-anything",), repair="repair-stow-zero-parts"),
    # test_stow_media_types.py
    "test_unsupported_request_media_type_is_415[multipart-form-data]": BREAKS,
    **_nodes(
        "test_unsupported_request_media_type_is_415",
        ("multipart-mixed", "application-json", "text-plain"),
        STORES_NOTHING,
    ),
    # SILENT DATA LOSS on Orthanc; a server that stores the mislabelled instance intact passes (the repair).
    **_nodes(
        "test_part_of_unsupported_type_is_refused_or_kept",
        ("octet-stream", "text-plain"),
        Expectation(("stow-stores-nothing", "wado-instance-flips-a-byte"), repair="repair-stow-reads-parts-as-dicom"),
    ),
    "test_root_part_without_content_type_takes_the_type_parameter": BREAKS,
    "test_part_with_a_transfer_syntax_parameter_is_stored": BREAKS,
    **_nodes(
        "test_equivalent_content_type_spellings_are_stored",
        ("unquoted-type", "quoted-boundary", "mixed-case"),
        STORES_NOTHING,
    ),
    **_nodes(
        "test_equivalent_multipart_framings_are_stored", ("preamble-and-epilogue", "extra-part-headers"), STORES_NOTHING
    ),
    "test_equivalent_multipart_framings_are_stored[transport-padding]": BREAKS,
    **_nodes("test_store_with_an_unacceptable_accept_is_406", ("application/dicom", "application/data"), BREAKS),
    "test_store_without_accept_is_not_acceptable": Expectation(("stow-adds-accept",), repair="repair-stow-no-accept"),
    **_nodes(
        "test_store_with_an_accept_range_answers_dicom_json", ("any", "application-range", "q-values"), WRONG_MEDIA_TYPE
    ),
    # test_stow_large.py
    "test_a_30_mb_instance_round_trips_byte_for_byte": ROUND_TRIP,
    "test_a_body_with_content_length_is_stored": ROUND_TRIP,
    "test_a_chunked_body_is_stored": ROUND_TRIP,
    # test_bad_input.py
    "test_malformed_multipart_is_refused[no-boundary-parameter]": Expectation(
        ("stow-accepts-anything", "stow-hangs-without-boundary")
    ),
    "test_malformed_multipart_is_refused[empty-boundary-parameter]": NOT_DICOM,
    **_nodes(
        "test_malformed_multipart_is_refused",
        (
            "unterminated-quoted-boundary",
            "wrong-boundary",
            "truncated-inside-the-part",
            "missing-close-delimiter",
            "bare-lf-line-endings",
            "no-part-header-block",
            "header-line-without-colon",
            "empty-body",
        ),
        BREAKS,
    ),
    **_nodes(
        "test_incomplete_dicom_is_refused",
        ("text-instead-of-dicom", "empty-part", "garbage-after-dicm-prefix", "5000-empty-parts"),
        NOT_DICOM,
    ),
    **_nodes("test_incomplete_dicom_is_refused", ("cut-inside-the-dataset", "cut-inside-pixel-data"), CUT_DICOM),
    **_nodes(
        "test_invalid_identifying_uids_are_refused",
        (
            "huge-study-uid",
            "huge-sop-instance-uid",
            "no-study-uid",
            "no-series-uid",
            "no-sop-instance-uid",
            "no-sop-class-uid",
        ),
        STORES_NOTHING,
    ),
    **_nodes(
        "test_invalid_identifying_uids_are_refused",
        ("empty-study-uid", "empty-series-uid", "empty-sop-instance-uid"),
        BREAKS,
    ),
}

# The facade: the azure-only checks, and every check Orthanc breaks without a repair (seen passing here).
FACADE_CHECKS: dict[str, Expectation] = {
    **{node: PASSES for node, expectation in ORTHANC_CHECKS.items() if expectation.breaks},
    # The facade refuses a mislabelled part; an answer that shows nothing is no proof that it is absent.
    **_nodes(
        "test_part_of_unsupported_type_is_refused_or_kept",
        ("octet-stream", "text-plain"),
        Expectation(("wado-absence-answers-500", "stow-accepts-anything")),
    ),
    "test_partial_failure_answers_202": Expectation(("stow-202-becomes-200",)),
    # Its UIDs cannot be put in a WADO-RS path: only a search can show the refused instance absent.
    **_nodes(
        "test_invalid_study_uid_in_the_dataset_is_refused",
        ("letters", "bar"),
        Expectation(("stow-drops-failed-sequence", "qido-absence-answers-503")),
    ),
    # The facade's header parser skips a header line without a colon: a deviation of its own.
    "test_malformed_multipart_is_refused[header-line-without-colon]": Expectation(
        repair="repair-stow-header-without-colon"
    ),
    "test_failure_reasons_are_documented_azure_codes": Expectation(("stow-failure-reason-outside-table",)),
    "test_validation_failures_carry_an_error_comment": Expectation(("stow-drops-error-comments",)),
    "test_study_mismatch_reason_is_43264_or_43265": Expectation(("stow-failure-reason-272",)),
    "test_partial_failure_answers_exactly_three_elements": Expectation(
        ("stow-adds-character-set", "stow-drops-study-retrieve-url")
    ),
    "test_only_an_empty_part_answers_409": Expectation(("stow-409-becomes-400", "stow-drops-failed-sequence")),
    "test_an_empty_part_beside_a_valid_one_answers_202": Expectation(("stow-202-becomes-200",)),
    "test_single_part_empty_body_answers_409": Expectation(("stow-409-becomes-400",)),
    **_nodes(
        "test_invalid_study_uid_in_the_dataset_is_43264", ("letters", "bar"), Expectation(("stow-failure-reason-272",))
    ),
    "test_same_instance_twice_in_one_request_answers_202": Expectation(("stow-202-becomes-200",)),
    "test_zero_parts_answers_204": Expectation(("stow-204-becomes-200",)),
    "test_store_without_accept_is_406": Expectation(("stow-adds-accept",)),
}

STOW = FaultArea(
    name="stow",
    selection=STOW_CHECKS,
    tables={"orthanc": ORTHANC_CHECKS, "facade": FACADE_CHECKS},
    keying=BY_CHECK_NAME,
    judged_elsewhere={"facade": {check for check, expectation in ORTHANC_CHECKS.items() if not expectation.breaks}},
)

suite_pool = suite_pool_fixture(STOW.name)
orthanc_plan = STOW.plan_fixture("orthanc")
facade_plan = STOW.plan_fixture("facade")
plan = STOW.case_plan_fixture()


def test_rule_names_are_known() -> None:
    named = {name for table in STOW.tables.values() for e in table.values() for name in (*e.faults, e.repair) if name}
    assert not sorted(named - set(RULES)), "the tables name rules no module defines"


test_every_stow_check_is_covered = STOW.coverage_test()
test_control = STOW.control_test()
test_repaired_deviation_passes = STOW.repair_test()
test_fault_makes_the_check_fail = STOW.fault_test()
