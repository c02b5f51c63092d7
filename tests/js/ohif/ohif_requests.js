// OHIF v3's DICOMweb requests made through the library OHIF makes them with: the JS dicomweb-client 0.10.4
// (@ohif/extension-default 3.12.0-beta.29 depends on ^0.10.4), under Node with xhr2 as XMLHttpRequest.
// Each entry below calls the client as OHIF's DicomWebDataSource does (the query objects are what qido.js mapParams
// and seriesInStudy build) and says whether OHIF would get what it shows; the keys are the names of the checks in
// suites/clients/test_client_ohif.py that reproduce the same request.
//
//   node ohif_requests.js INPUT.json OUTPUT.json
//
// INPUT (written by tests/integration/test_ohif_requests_agree.py): root, token, the study and its instances.
// Frames are fetched by cornerstone in OHIF, not by this library: here they go through the library's own GET
// (_httpGet, which OHIF's retrieveBulkData uses) with OHIF's Accept, split by the library's multipart decoder.
'use strict';
global.XMLHttpRequest = require('xhr2');
const fs = require('fs');
const { api } = require('dicomweb-client');

const input = JSON.parse(fs.readFileSync(process.argv[2]));
const client = new api.DICOMwebClient({
  url: input.root,
  headers: input.token ? { Authorization: `Bearer ${input.token}` } : {},
  errorInterceptor: () => {},
});
const STUDY_FIELDS = '00081030,00080060,00080090,00100030'; // qido.js mapParams
const SERIES_FIELDS = '0008103E,00080021'; // qido.js seriesInStudy
const ACCEPT = {
  quoted: 'multipart/related; type="application/octet-stream"; transfer-syntax="*"',
  unquoted: 'multipart/related; type=application/octet-stream; transfer-syntax=*',
};
const getString = (ds, tag) => (ds && ds[tag] && ds[tag].Value ? ds[tag].Value.join('\\') : '');
const list = result => (Array.isArray(result) ? result : []); // processResults: no length -> []
const hasValue = (ds, tag) =>
  !!ds && typeof ds === 'object' &&
  ((ds[tag] && ds[tag].Value && ds[tag].Value.length > 0) ||
    Object.values(ds).some(e => e && e.vr === 'SQ' && (e.Value || []).some(item => hasValue(item, tag))));

function studyList(extra, offset = 0) {
  // mapParams' key order: PatientName, 00100020, ModalitiesInStudy, limit, offset, fuzzymatching, includefield,
  // StudyInstanceUID.
  const { PatientName, patientId, ModalitiesInStudy, StudyInstanceUID } = extra;
  const q = {};
  if (PatientName) q.PatientName = PatientName;
  if (patientId) q['00100020'] = patientId;
  if (ModalitiesInStudy) q.ModalitiesInStudy = ModalitiesInStudy;
  Object.assign(q, { limit: 101, offset, fuzzymatching: false, includefield: STUDY_FIELDS });
  if (StudyInstanceUID) q.StudyInstanceUID = StudyInstanceUID;
  return client.searchForStudies({ queryParams: q }).then(list);
}

const theStudy = studies => studies.filter(s => getString(s, '0020000D') === input.study_uid);

function imagesComplete(datasets) {
  const bySop = Object.fromEntries(datasets.map(d => [getString(d, '00080018'), d]));
  const missing = [];
  for (const i of input.instances) {
    const ds = bySop[i.sop_uid];
    if (!ds) { missing.push(`${i.name}: absent`); continue; }
    for (const tag of ['00280010', '00280011', '00280100', '00280004']) if (!hasValue(ds, tag)) missing.push(`${i.name}: ${tag}`);
    if (['CT', 'MR'].includes(i.modality)) for (const tag of ['00200032', '00200037']) if (!hasValue(ds, tag)) missing.push(`${i.name}: ${tag}`);
    if (i.frames > 1 && getString(ds, '00280008') !== String(i.frames)) missing.push(`${i.name}: 00280008`);
  }
  return { ok: missing.length === 0 && datasets.length === input.instances.length, detail: missing.join(', ') || `${datasets.length} instances` };
}

const operations = {
  test_ohif_study_list_includefield: async () => {
    const [s] = theStudy(await studyList({ patientId: input.patient_id }));
    return { ok: !!s && getString(s, '00081030') === input.description, detail: s ? `00081030=${getString(s, '00081030')}` : 'no study' };
  },
  test_ohif_study_list_row: async () => {
    const [s] = theStudy(await studyList({ patientId: input.patient_id }));
    if (!s) return { ok: false, detail: 'no study' };
    const name = (s['00100010'] && s['00100010'].Value && s['00100010'].Value[0]) || {};
    const modalities = getString(s, '00080061').split('\\');
    const ok = /^\d{8}$/.test(getString(s, '00080020')) && name.Alphabetic === input.patient_name &&
      Number(getString(s, '00201208')) === input.instances.length &&
      input.instances.every(i => modalities.includes(i.modality));
    return { ok, detail: `${getString(s, '00080020')} ${name.Alphabetic} ${getString(s, '00201208')} ${modalities}` };
  },
  test_ohif_study_list_wildcard: async () => {
    const found = theStudy(await studyList({ PatientName: `*${input.patient_token}*` }));
    return { ok: found.length === 1, detail: `${found.length} found` };
  },
  'test_ohif_study_list_modalities[one]': async () => {
    const found = theStudy(await studyList({ patientId: input.patient_id, ModalitiesInStudy: ['CT'] }));
    return { ok: found.length === 1, detail: `${found.length} found` };
  },
  'test_ohif_study_list_modalities[list]': async () => {
    const found = theStudy(await studyList({ patientId: input.patient_id, ModalitiesInStudy: ['SR', 'CT'] }));
    return { ok: found.length === 1, detail: `${found.length} found` };
  },
  test_ohif_study_uid_list: async () => {
    const uids = `${input.study_uid},${input.other_uid}`.replace(/[^0-9.]+/g, '\\'); // mapParams
    const found = theStudy(await studyList({ StudyInstanceUID: uids }));
    return { ok: found.length === 1, detail: `${found.length} found` };
  },
  test_ohif_study_list_empty: async () => {
    const found = await studyList({ patientId: input.nosuch_patient_id });
    return { ok: found.length === 0, detail: `${found.length} studies` };
  },
  test_ohif_next_page: async () => {
    const found = await studyList({ patientId: input.patient_id }, 100);
    return { ok: found.length === 0, detail: `${found.length} studies at offset 100` };
  },
  test_ohif_series_includefield: async () => {
    const rows = list(await client.searchForSeries({ studyInstanceUID: input.study_uid, queryParams: { includefield: SERIES_FIELDS } }));
    const ok = rows.length === input.instances.length &&
      input.instances.every(i => rows.some(r => getString(r, '0020000E') === i.series_uid && getString(r, '00080021') === i.series_date));
    return { ok, detail: rows.map(r => getString(r, '00080021') || '-').join(' ') };
  },
  test_ohif_series_rows: async () => {
    const rows = list(await client.searchForSeries({ studyInstanceUID: input.study_uid, queryParams: { includefield: SERIES_FIELDS } }));
    const ok = rows.length === input.instances.length && input.instances.every(i => rows.some(r =>
      getString(r, '0020000E') === i.series_uid && getString(r, '00080060') === i.modality &&
      getString(r, '00200011') === i.series_number && getString(r, '0008103E') === i.series_description &&
      getString(r, '00201209') === '1'));
    return { ok, detail: `${rows.length} series` };
  },
  test_ohif_open_study_lazy: async () => {
    const series = list(await client.searchForSeries({ studyInstanceUID: input.study_uid }));
    const datasets = [];
    for (const s of series) {
      datasets.push(...list(await client.retrieveSeriesMetadata({ studyInstanceUID: input.study_uid, seriesInstanceUID: getString(s, '0020000E') })));
    }
    return imagesComplete(datasets);
  },
  test_ohif_open_study_sync: async () => imagesComplete(list(await client.retrieveStudyMetadata({ studyInstanceUID: input.study_uid }))),
  test_ohif_save_sr: async () => {
    const file = fs.readFileSync(input.sr_file);
    await client.storeInstances({ datasets: [file.buffer.slice(file.byteOffset, file.byteOffset + file.length)] });
    const found = list(await client.searchForStudies({ queryParams: { StudyInstanceUID: input.sr_study_uid } }));
    return { ok: found.length === 1, detail: `${found.length} found after the store` };
  },
};

for (const i of input.instances) {
  for (const number of i.frame_numbers) {
    for (const quotes of Object.keys(ACCEPT)) {
      operations[`test_ohif_frames[${i.name}-${number}-${quotes}]`] = async () => {
        const url = `${input.root}/studies/${input.study_uid}/series/${i.series_uid}/instances/${i.sop_uid}/frames/${number}`;
        const parts = await client._httpGet(url, { Accept: ACCEPT[quotes] }, 'arraybuffer');
        const data = Buffer.from(parts[0] || new ArrayBuffer(0));
        const ok = parts.length === 1 && (i.native_size ? data.length === i.native_size : data.subarray(0, 4).equals(Buffer.from([0xff, 0x4f, 0xff, 0x51])));
        return { ok, detail: `${parts.length} part(s), ${data.length} bytes` };
      };
    }
  }
}

(async () => {
  const results = {};
  for (const [name, operation] of Object.entries(operations)) {
    try {
      results[name] = await operation();
    } catch (error) {
      results[name] = { ok: false, detail: `rejected: ${error.status || error.message}` };
    }
  }
  fs.writeFileSync(process.argv[3], JSON.stringify(results, null, 1));
})();
