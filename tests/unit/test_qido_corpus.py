"""The QIDO depth corpus keeps one patient per PatientID and one scope shared by studies A-E only."""

from __future__ import annotations

from dicomweb_conformance.corpora.qido_corpus import build_qido_corpus
from dicomweb_conformance.corpora.qido_depth_corpus import SCOPE_KEY, STUDIES, build_qido_depth_corpus

# PS3.4 C.6.1.1.2: the attributes a server may keep once per patient.
PATIENT_ATTRIBUTES = ("PatientName", "PatientBirthDate", "PatientSex", "PatientAge", "PatientWeight")


def test_each_patient_id_carries_one_set_of_demographics() -> None:
    corpus = build_qido_depth_corpus("unit")
    demographics: dict[str, set[tuple[str, ...]]] = {}
    for instance in corpus.instances:
        ds = instance.sample.dataset
        demographics.setdefault(ds.PatientID, set()).add(tuple(str(ds.get(k, "")) for k in PATIENT_ATTRIBUTES))
    assert all(len(found) == 1 for found in demographics.values()), demographics
    assert len(demographics) == len(STUDIES)


def test_the_scope_selects_studies_a_to_e_and_not_f() -> None:
    corpus = build_qido_depth_corpus("unit")
    in_scope = {i.study for i in corpus.instances if i.sample.dataset.get(SCOPE_KEY) == corpus.scope_accession}
    assert corpus.scope == (SCOPE_KEY, corpus.scope_accession)
    assert in_scope == {"A", "B", "C", "D", "E"}
    assert corpus.value("F", SCOPE_KEY) == corpus.other_accession != corpus.scope_accession


def test_two_copies_of_the_corpus_do_not_share_a_scope() -> None:
    assert build_qido_depth_corpus("unit").scope != build_qido_depth_corpus("unit").scope


def test_the_property_corpus_keeps_one_patient_name_per_patient_id() -> None:
    corpus = build_qido_corpus("unit")
    names = {(i.dataset.PatientID, str(i.dataset.PatientName)) for i in corpus.instances}
    assert len(names) == len({patient_id for patient_id, _ in names}) == 1
