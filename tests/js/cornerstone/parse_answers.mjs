// Runs @cornerstonejs/dicom-image-loader's own WADO-RS answer parsing (extractMultipart, then
// getTransferSyntaxForContentType, as getPixelData and loadImageFromNetwork call them) on answers given as JSON on
// stdin: [{"id", "content_type" (the response's, or null), "body" (base64)}]. Prints, per id, what the loader got:
// {"ok": true, "contentType", "transferSyntax", "pixelData" (base64)} or {"ok": false, "error"}.
// The two functions are bundled with esbuild from the installed package; every other import of their modules is
// replaced by a stub (they are not called on this path). Used by tests/integration/test_cornerstone_parsing_agrees.py.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wadors = resolve(here, 'node_modules/@cornerstonejs/dicom-image-loader/dist/esm/imageLoader/wadors');
const kept = new Set(['extractMultipart.js', 'findIndexOfString.js', 'loadImage.js'].map((f) => resolve(wadors, f)));
const stub = `
export const Enums = { ImageQualityStatus: { SUBRESOLUTION: 3, FULL_RESOLUTION: 8 } };
export const utilities = {};
export const imageRetrievalPoolManager = {};
export const logging = { loaderLog: { getLogger: () => ({ warn() {}, debug() {}, info() {}, error() {} }) } };
export const DEFAULT_MS_BETWEEN_DECODE = 0;
export function loadImageFromCompressedFrameRegistry() {}
export default function notBundled() { throw new Error('not bundled'); }
`;
const stubOthers = {
  name: 'stub-others',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const path = args.path.startsWith('.') ? resolve(args.resolveDir, args.path) : args.path;
      return kept.has(path) ? { path } : { path: args.path, namespace: 'stub' };
    });
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: stub, loader: 'js' }));
  },
};
const bundled = await build({
  stdin: {
    contents: `export { default as extractMultipart } from ${JSON.stringify(resolve(wadors, 'extractMultipart.js'))};
export { getTransferSyntaxForContentType } from ${JSON.stringify(resolve(wadors, 'loadImage.js'))};`,
    resolveDir: here,
    loader: 'js',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'error',
  plugins: [stubOthers],
});
const code = bundled.outputFiles[0].text;
const { extractMultipart, getTransferSyntaxForContentType } = await import(
  'data:text/javascript;base64,' + Buffer.from(code).toString('base64')
);

const answers = JSON.parse(readFileSync(0, 'utf8'));
const results = {};
for (const { id, content_type: contentType, body } of answers) {
  try {
    // getPixelData.js (29-30)
    const extracted = extractMultipart(
      contentType || 'application/octet-stream',
      new Uint8Array(Buffer.from(body, 'base64'))
    );
    results[id] = {
      ok: true,
      contentType: extracted.contentType ?? null,
      transferSyntax: getTransferSyntaxForContentType(extracted.contentType), // loadImage.js (87)
      pixelData: Buffer.from(extracted.pixelData).toString('base64'),
    };
  } catch (error) {
    results[id] = { ok: false, error: String(error.message) };
  }
}
process.stdout.write(JSON.stringify(results));
