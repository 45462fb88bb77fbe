/**
 * The data plane's key layout (src/job/layout.ts): every key round-trips through its parser, for
 * small and large call ids, and no module outside src/job/ builds a job key or parses a record by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  jobKey,
  keys,
  pad,
  parseCallKey,
  parseClaimKey,
  parseExecutorKey,
  parseJobKey,
  withoutJobsPrefix,
} from '../../src/job/layout.ts';

const src = resolve(import.meta.dirname, '../../src');
const IDS = [0, 7, 99_999, 100_000, 1_000_000, 12_345_678, Number.MAX_SAFE_INTEGER];

test('status and output keys parse back to their call id and attempt, ids of 10^6 and more included', () => {
  const job = jobKey('E1', 'M003');
  for (const callId of IDS) {
    for (const attempt of [1, 2, 17]) {
      for (const key of [keys.status(job, callId, attempt), keys.output(job, callId, attempt)]) {
        assert.deepEqual(parseCallKey(key), { callId, attempt }, key);
        assert.deepEqual(parseJobKey(key), { executorId: 'E1', jobId: 'M003', jobKey: job }, key);
      }
    }
    // The older layout (no attempt in the key) is still read.
    assert.deepEqual(parseCallKey(keys.legacyStatus(job, callId)), { callId });
    assert.deepEqual(parseCallKey(keys.legacyOutput(job, callId)), { callId });
  }
  assert.equal(keys.status(job, 7, 2), 'burst/jobs/E1/M003/status/00007.2');
  assert.equal(keys.output(job, 1_000_000, 1), 'burst/jobs/E1/M003/output/1000000.1');
  assert.ok(keys.status(job, 5).startsWith(keys.statusPrefix(job)));
  assert.ok(keys.output(job, 5).startsWith(keys.outputPrefix(job)));
  assert.equal(pad(3), '00003');
});

test('listings of a job under 100,000 calls come back in call order', () => {
  const job = jobKey('E1', 'M000');
  const ids = [0, 1, 9, 10, 99, 100, 9_999, 10_000, 99_999];
  const listed = ids.map((id) => keys.status(job, id, 1)).sort();
  assert.deepEqual(
    listed.map((k) => parseCallKey(k)?.callId),
    ids,
  );
});

test('claim keys parse back to attempt, first call and nonce', () => {
  const job = jobKey('E1', 'M000');
  for (const first of IDS) {
    const key = keys.claim(job, 3, first, 'a1b2c3d4');
    assert.ok(key.startsWith(keys.claimPrefix(job)));
    assert.deepEqual(parseClaimKey(key), { attempt: 3, firstCall: first, nonce: 'a1b2c3d4' });
  }
});

test('names that are not call, claim or job keys parse to undefined', () => {
  for (const key of [
    'burst/jobs/E/J/status/abc',
    'burst/jobs/E/J/status/7.0',
    'burst/jobs/E/J/status/7.x',
    'burst/jobs/E/J/status/',
    'burst/jobs/E/J/status/-1.1',
    'burst/jobs/E/J/status/99999999999999999999.1',
  ]) {
    assert.equal(parseCallKey(key), undefined, key);
  }
  for (const key of ['burst/jobs/E/J/claims/0.00001.n', 'burst/jobs/E/J/claims/1.x.n', 'burst/jobs/E/J/claims/1'])
    assert.equal(parseClaimKey(key), undefined, key);
  for (const key of ['burst/functions/abc.mjs', 'burst/jobs/', 'burst/jobs/E', 'burst/jobs/E/', 'other/jobs/E/J'])
    assert.equal(parseJobKey(key), undefined, key);
});

test('executor and job prefixes of a listing parse back to their ids', () => {
  const job = jobKey('1733-abc', 'M001');
  assert.equal(parseExecutorKey(keys.executor('1733-abc')), '1733-abc');
  assert.equal(parseExecutorKey(keys.lease('1733-abc')), '1733-abc');
  assert.equal(parseJobKey(keys.jobPrefix(job))?.jobId, 'M001');
  assert.equal(parseJobKey(keys.manifest(job))?.jobKey, job);
  assert.equal(parseJobKey(keys.statusBatch(job, 12, 'ff00aa'))?.jobKey, job);
  assert.equal(keys.statusBatch(job, 12, 'ff00aa'), `${keys.statusBatchPrefix(job)}000012-ff00aa`);
  assert.equal(withoutJobsPrefix(job), '1733-abc/M001');
  assert.equal(withoutJobsPrefix('1733-abc/M001'), '1733-abc/M001');
  assert.ok(keys.bundle('f'.repeat(64)).startsWith(keys.functionsPrefix));
  assert.ok(keys.lease('x').startsWith(keys.executor('x')) && keys.executor('x').startsWith(keys.jobsPrefix));
});

// ---- no key building or record parsing outside src/job/ ----

/** Fragments of the layout, and hand parsing of records, that only src/job/ may write. */
const FORBIDDEN: Array<[RegExp, string]> = [
  [/\/(status|status-batches|output|claims)\//, 'a status/output/claim key segment'],
  [/\/lease\b|\/job\.json|['"`]job\.json/, 'the lease or manifest key'],
  [/burst\/(jobs|functions)\b/, 'the jobs or functions prefix'],
  [/\$\{ROOT\}|\bimport\s*\{[^}]*\bROOT\b/, 'the storage root'],
  [/JSON\.parse\([^;]*\.get\(/, 'a record parsed by hand from storage'],
  [/\bas\s+(JobManifest|StoredStatus|LeaseRecord)\b/, 'a record cast instead of decoded'],
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Code without comments and without its import lines (module paths such as '../job/lease.js'). */
function code(text: string): string[] {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ''))
    .split('\n')
    .map((line) => (/^\s*(import|export)\b.*\bfrom\s+'/.test(line) ? '' : line.replace(/(^|[^:'"`\\])\/\/.*$/, '$1')));
}

function violations(file: string, text: string): string[] {
  const out: string[] = [];
  code(text).forEach((line, i) => {
    for (const [re, what] of FORBIDDEN)
      if (re.test(line)) out.push(`${file}:${i + 1}: ${what}: ${line.trim().slice(0, 120)}`);
  });
  return out;
}

test('the scan finds key building and hand parsing (it can fail)', () => {
  const planted = [
    'const k = `${jobKey}/status/${id}.1`;',
    'const m = `${jobKey}/job.json`;',
    'const p = `${ROOT}/jobs/${e}/`;',
    'const x = JSON.parse(Buffer.from(await storage.get(b, k)).toString());',
    'const s = parsed as StoredStatus;',
  ].join('\n');
  assert.equal(violations('planted.ts', planted).length, 5);
  assert.deepEqual(
    violations(
      'fine.ts',
      "// burst/jobs/<e>/<j>/status/<call>\nimport { keys } from '../job/layout.js';\nconst k = keys.status(j, 1);",
    ),
    [],
  );
});

test('no module outside src/job/ builds a job key or parses a record by hand', () => {
  const found: string[] = [];
  for (const file of files(src)) {
    const rel = relative(src, file);
    if (rel.startsWith('job/')) continue;
    found.push(...violations(rel, readFileSync(file, 'utf8')));
  }
  assert.deepEqual(found, []);
});
