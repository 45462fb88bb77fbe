/**
 * The planner: prefixes, globs, object lists (mixing stores), local paths and file:// folders, the
 * chunk arithmetic, user partitioners, option validation, and every "no data" error before reading.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ConfigError, NoSuchBucketError, NoSuchKeyError } from '../../src/errors.js';
import { MAX_PARTITIONS, validatePartitionOptions } from '../../src/partition/chunking.js';
import { PartitionError } from '../../src/partition/errors.js';
import { isPartitionInput, planPartitions } from '../../src/partition/planner.js';
import { closePartitionStorage } from '../../src/partition/reader.js';
import type { PartitionSpec } from '../../src/partition/types.js';
import { fs } from '../../src/storage/fs/driver.js';
import { s3 } from '../../src/storage/s3/driver.js';
import type { StorageDriver } from '../../src/storage/types.js';
import { ensureCeph } from '../services.js';
import { rejectsWith, uniqueBucket } from '../storage/helpers.js';
import { readPartitions } from './helpers.js';

const ceph = await ensureCeph(); // before any test is declared: the file's after() hook must not run early
const root = await mkdtemp(join(tmpdir(), 'burst-plan-'));
const local = join(root, 'local');
const store = fs({ root: join(root, 'store') });
const bucket = 'data';
const ctx = { storage: store };

/** Counts body reads: planning must make none. */
function countingReads(driver: StorageDriver): { driver: StorageDriver; reads: () => number } {
  let n = 0;
  const proxy = new Proxy(driver, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if ((prop === 'get' || prop === 'getStream') && typeof value === 'function') {
        return (...args: unknown[]) => {
          n++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { driver: proxy, reads: () => n };
}

const keysOf = (specs: PartitionSpec[]): string[] => [...new Set(specs.map((s) => s.key))];

before(async () => {
  await store.createBucket(bucket);
  const objects: Record<string, string> = {
    'logs/2019/a.csv': 'x,1\ny,2\n',
    'logs/2019/b.csv': 'z,3\n',
    'logs/2019/notes.txt': 'hello world\n',
    'logs/2019/deep/c.csv': 'w,4\n',
    'logs/2020/a.csv': 'v,5\n',
    'empty.txt': '',
    'big.txt': 'line\n'.repeat(2000),
  };
  for (const [key, body] of Object.entries(objects)) await store.put(bucket, key, body);
  await store.createBucket('void');
  await mkdir(join(local, 'sub'), { recursive: true });
  await writeFile(join(local, 'one.txt'), 'alpha beta\ngamma\n');
  await writeFile(join(local, 'sub', 'two.txt'), 'delta\n');
  await writeFile(join(local, 'x[1].txt'), 'bracket\n');
});
after(async () => {
  await closePartitionStorage();
  await rm(root, { recursive: true, force: true });
});

describe('planPartitions: storage inputs', () => {
  it('a prefix yields every object under it, in key order, one partition each by default', async () => {
    const { driver, reads } = countingReads(store);
    const specs = await planPartitions(`fs://${bucket}/logs/2019/`, {}, { storage: driver });
    assert.deepEqual(keysOf(specs), [
      'logs/2019/a.csv',
      'logs/2019/b.csv',
      'logs/2019/deep/c.csv',
      'logs/2019/notes.txt',
    ]);
    assert.deepEqual(
      specs.map((s) => [s.objectIndex, s.part, s.totalParts, s.start, s.end === s.size]),
      [
        [0, 0, 1, 0, true],
        [1, 0, 1, 0, true],
        [2, 0, 1, 0, true],
        [3, 0, 1, 0, true],
      ],
    );
    assert.equal(specs[0]?.uri, `fs://${bucket}/logs/2019/a.csv`);
    assert.deepEqual(specs[0]?.storage, store.config, "fs:// uses the executor's store");
    assert.ok(specs.every((s) => typeof s.etag === 'string' && s.newline === '\n'));
    assert.equal(reads(), 0, 'planning reads no object body');
  });

  it('a folder without its trailing slash, and a whole bucket, are prefixes too', async () => {
    assert.equal((await planPartitions(`fs://${bucket}/logs/2020`, {}, ctx)).length, 1);
    assert.equal(keysOf(await planPartitions(`fs://${bucket}`, {}, ctx)).length, 7);
  });

  it('globs match keys (* stays in one folder, ** crosses folders)', async () => {
    assert.deepEqual(keysOf(await planPartitions(`fs://${bucket}/logs/2019/*.csv`, {}, ctx)), [
      'logs/2019/a.csv',
      'logs/2019/b.csv',
    ]);
    assert.deepEqual(keysOf(await planPartitions(`fs://${bucket}/logs/**/*.csv`, {}, ctx)), [
      'logs/2019/a.csv',
      'logs/2019/b.csv',
      'logs/2019/deep/c.csv',
      'logs/2020/a.csv',
    ]);
    assert.deepEqual(keysOf(await planPartitions(`fs://${bucket}/logs/20{19,20}/a.csv`, {}, ctx)), [
      'logs/2019/a.csv',
      'logs/2020/a.csv',
    ]);
  });

  it('an empty prefix, a glob matching nothing, a missing object or bucket are typed errors', async () => {
    const e = await rejectsWith(planPartitions(`fs://${bucket}/nothing/`, {}, ctx), PartitionError, [
      '"fs://data/nothing/" names no object',
      'prefix "nothing/"',
    ]);
    assert.equal((e as PartitionError).code, 'EMPTY_PREFIX');
    await rejectsWith(planPartitions('fs://void', {}, ctx), PartitionError, ['bucket "void" is empty']);
    const g = await rejectsWith(planPartitions(`fs://${bucket}/logs/*.parquet`, {}, ctx), PartitionError, [
      'matched no object',
    ]);
    assert.equal((g as PartitionError).code, 'NO_MATCH');
    await rejectsWith(
      planPartitions([`fs://${bucket}/logs/2019/a.csv`, `fs://${bucket}/logs/missing.csv`], {}, ctx),
      NoSuchKeyError,
      ['logs/missing.csv'],
    );
    await rejectsWith(planPartitions('fs://no-such-bucket/x.csv', {}, ctx), NoSuchBucketError, ['no-such-bucket']);
    await rejectsWith(planPartitions([], {}, ctx), ConfigError, ['non-empty array']);
    await rejectsWith(planPartitions(['fs://data/a', 42 as unknown as string], {}, ctx), ConfigError, ['got number']);
  });

  it('splits by objChunkSize and objChunkNumber into contiguous ranges covering each object', async () => {
    const size = 2000 * 5;
    const bySize = await planPartitions(`fs://${bucket}/big.txt`, { objChunkSize: 3000 }, ctx);
    assert.deepEqual(
      bySize.map((s) => [s.start, s.end]),
      [
        [0, 3000],
        [3000, 6000],
        [6000, 9000],
        [9000, size],
      ],
    );
    assert.ok(bySize.every((s) => s.totalParts === 4 && s.size === size));
    const byNumber = await planPartitions(`fs://${bucket}/big.txt`, { objChunkNumber: 3 }, ctx);
    assert.deepEqual(
      byNumber.map((s) => [s.start, s.end]),
      [
        [0, 3333],
        [3333, 6666],
        [6666, size],
      ],
    );
    const tiny = await planPartitions(`fs://${bucket}/logs/2019/b.csv`, { objChunkNumber: 10 }, ctx);
    assert.equal(tiny.length, 4, 'never more chunks than bytes');
    const empty = await planPartitions(`fs://${bucket}/empty.txt`, { objChunkSize: 10 }, ctx);
    assert.deepEqual(
      empty.map((s) => [s.start, s.end, s.size, s.totalParts]),
      [[0, 0, 0, 1]],
    );
  });

  it('refuses a plan with more than maxCalls calls before building it (default 100000, at most MAX_PARTITIONS)', async () => {
    await writeFile(join(root, 'store', bucket, 'huge.bin'), Buffer.alloc(100_010));
    const e = await rejectsWith(planPartitions(`fs://${bucket}/huge.bin`, { objChunkSize: 1 }, ctx), ConfigError, [
      '100010 calls, more than maxCalls (100000)',
    ]);
    assert.equal((e as ConfigError).keyPath, 'maxCalls');
    await rejectsWith(
      planPartitions(`fs://${bucket}/huge.bin`, { objChunkSize: 1, maxCalls: 1000 }, ctx),
      ConfigError,
      ['more than maxCalls (1000)'],
    );
    assert.equal(
      (await planPartitions(`fs://${bucket}/huge.bin`, { objChunkSize: 1, maxCalls: 100_010 }, ctx)).length,
      100_010,
    );
    await rejectsWith(planPartitions(`fs://${bucket}/huge.bin`, { maxCalls: MAX_PARTITIONS + 1 }, ctx), ConfigError, [
      `maxCalls must be at most ${MAX_PARTITIONS}`,
    ]);
    await store.delete(bucket, ['huge.bin']);
  });

  it('a listing with more objects than maxCalls stops early with a ConfigError', async () => {
    for (let i = 0; i < 12; i++) await store.put(bucket, `many/${i}.txt`, 'x');
    await rejectsWith(planPartitions(`fs://${bucket}/many/`, { maxCalls: 10 }, ctx), ConfigError, [
      'more than maxCalls (10)',
    ]);
    assert.equal((await planPartitions(`fs://${bucket}/many/`, { maxCalls: 12 }, ctx)).length, 12);
    await store.delete(
      bucket,
      Array.from({ length: 12 }, (_, i) => `many/${i}.txt`),
    );
  });

  it('a user partitioner gives exact ranges (no line alignment) and its mistakes are named', async () => {
    const seen: unknown[] = [];
    const specs = await planPartitions(
      `fs://${bucket}/logs/2019/a.csv`,
      {
        partitioner: (o) => {
          seen.push(o);
          return [
            { start: 0, end: 3 },
            { start: 4, end: o.size },
          ];
        },
      },
      ctx,
    );
    assert.deepEqual(seen, [
      { uri: 'fs://data/logs/2019/a.csv', bucket, key: 'logs/2019/a.csv', size: 8, etag: specs[0]?.etag },
    ]);
    assert.deepEqual(
      specs.map((s) => [s.start, s.end, s.newline]),
      [
        [0, 3, null],
        [4, 8, null],
      ],
    );
    assert.deepEqual(
      (await readPartitions(specs)).map((r) => r.bytes.toString()),
      ['x,1', 'y,2\n'],
    );
    for (const [ranges, why] of [
      [[], 'no ranges'],
      [[{ start: 0, end: 9 }], 'past the end'],
      [
        [
          { start: 4, end: 8 },
          { start: 0, end: 4 },
        ],
        'out of order',
      ],
      [[{ start: 0.5, end: 4 }], 'not { start, end } integers'],
    ] as const) {
      const e = await rejectsWith(
        planPartitions(`fs://${bucket}/logs/2019/a.csv`, { partitioner: () => ranges as never }, ctx),
        PartitionError,
        [why, 'fs://data/logs/2019/a.csv'],
      );
      assert.equal((e as PartitionError).code, 'BAD_RANGES');
    }
  });
});

describe('planPartitions: local paths and file:// URLs', () => {
  it('plans an absolute folder, a ./relative file, a file:// folder and a file:// glob', async () => {
    const abs = await planPartitions(local, {}, ctx);
    assert.deepEqual(
      abs.map((s) => s.uri),
      [
        pathToFileURL(join(local, 'one.txt')).href,
        pathToFileURL(join(local, 'sub/two.txt')).href,
        pathToFileURL(join(local, 'x[1].txt')).href,
      ].sort(),
    );
    assert.deepEqual(abs[0]?.storage, { driver: 'fs', options: { root: '/', shared: false, fsync: false } });
    let rel = relative(process.cwd(), join(local, 'one.txt'));
    if (!rel.startsWith('.')) rel = `./${rel}`;
    const one = await planPartitions(rel, { objChunkSize: 4 }, ctx);
    assert.equal(one.length, 5);
    assert.deepEqual(
      (await readPartitions(one)).flatMap((r) => r.lines),
      ['alpha beta', 'gamma'],
    );
    assert.equal((await planPartitions(`${pathToFileURL(local).href}/`, {}, ctx)).length, 3);
    assert.deepEqual(
      (await planPartitions(`${pathToFileURL(local).href}/**/t*.txt`, {}, ctx)).map((s) => s.key.split('/').pop()),
      ['two.txt'],
    );
    // A path that exists as written is not a pattern, even with glob characters in it.
    assert.deepEqual(
      (await planPartitions(join(local, 'x[1].txt'), {}, ctx)).map((s) => s.size),
      [8],
    );
    await rejectsWith(planPartitions(join(local, 'nope.txt'), {}, ctx), NoSuchKeyError, ['nope.txt']);
  });

  it('isPartitionInput accepts URIs and existing local paths, not ordinary strings', () => {
    for (const yes of [
      's3://b/k',
      'fs://b/',
      'file:///tmp',
      'https://example.com/x',
      'memory://b/k',
      local,
      join(local, '*.txt'),
      [local, 's3://b/k'],
    ]) {
      assert.equal(isPartitionInput(yes), true, String(yes));
    }
    for (const no of [
      'hello',
      ['a', 'b'],
      [],
      ['s3://b/k', 'word'],
      42,
      null,
      '/no/such/path/here',
      'unknownscheme://b/k',
      [1, 2],
      'relative/path',
    ]) {
      assert.equal(isPartitionInput(no), false, JSON.stringify(no));
    }
  });
});

describe('partition options', () => {
  it('are validated with messages that name the option', () => {
    const cases: Array<[object, string]> = [
      [{ objChunkSize: 0 }, 'objChunkSize must be a positive integer, got 0'],
      [{ objChunkSize: 1.5 }, 'objChunkSize must be a positive integer, got 1.5'],
      [{ objChunkNumber: -2 }, 'objChunkNumber must be a positive integer, got -2'],
      [{ objChunkNumber: '4' }, 'objChunkNumber must be a positive integer, got "4"'],
      [{ objChunkSize: 10, objChunkNumber: 2 }, 'objChunkSize and objChunkNumber are exclusive, got both (10 and 2)'],
      [{ objNewline: '' }, 'objNewline must be a non-empty string or null, got ""'],
      [{ objNewline: '\n\n' }, 'objNewline must not overlap itself'],
      [{ objNewline: '\ud800' }, 'objNewline must be valid Unicode text'],
      [{ objNewline: 7 }, 'objNewline must be a non-empty string or null, got 7'],
      [{ partitioner: 'split' }, 'partitioner must be a function, got "split"'],
      [{ partitioner: () => [], objChunkSize: 4 }, 'partitioner replaces objChunkSize and objChunkNumber'],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => validatePartitionOptions(options),
        (e: unknown) => e instanceof ConfigError && e.message.startsWith(message),
        message,
      );
    }
    const limits = {
      maxCalls: 100_000,
      http: { connectTimeout: 10_000, headTimeout: 30_000, readTimeout: 60_000, redirectHosts: [] },
    };
    assert.deepEqual(validatePartitionOptions({}), { newline: '\n', ...limits });
    assert.deepEqual(validatePartitionOptions({ objNewline: null, objChunkNumber: 3 }), {
      newline: null,
      chunkNumber: 3,
      ...limits,
    });
  });

  it('invalid options fail before any listing', async () => {
    const { driver, reads } = countingReads(store);
    await rejectsWith(planPartitions('fs://no-such-bucket/', { objChunkSize: 0 }, { storage: driver }), ConfigError, [
      'objChunkSize',
    ]);
    assert.equal(reads(), 0);
  });
});

describe('planPartitions: a list mixing fs and S3', {
  skip: 'skip' in ceph ? `Ceph RGW unavailable: ${ceph.skip}` : undefined,
}, () => {
  it('plans each object with its own store, in input order, and reads each from there', async () => {
    if ('skip' in ceph) return;
    const s3Options = {
      endpoint: ceph.endpoint,
      accessKeyId: ceph.accessKeyId,
      secretAccessKey: ceph.secretAccessKey,
      region: ceph.region,
    };
    const remote = s3(s3Options);
    const b = uniqueBucket('plan');
    await remote.createBucket(b);
    try {
      await remote.put(b, 'in/x.txt', 'from s3\nsecond\n');
      await remote.put(b, 'in/y.txt', 'more s3\n');
      const specs = await planPartitions(
        [`s3://${b}/in/`, `fs://${bucket}/logs/2020/a.csv`, join(local, 'one.txt')],
        { objChunkNumber: 2 },
        { storage: store, uriDefaults: { s3: s3Options } },
      );
      assert.deepEqual(
        specs.map((s) => [s.objectIndex, s.storage?.driver]),
        [
          [0, 's3'],
          [0, 's3'],
          [1, 's3'],
          [1, 's3'],
          [2, 'fs'],
          [2, 'fs'],
          [3, 'fs'],
          [3, 'fs'],
        ],
      );
      assert.deepEqual(
        (await readPartitions(specs)).flatMap((r) => r.lines),
        ['from s3', 'second', 'more s3', 'v,5', 'alpha beta', 'gamma'],
      );
      await rejectsWith(
        planPartitions(`s3://${b}/in/missing.txt`, {}, { storage: store, uriDefaults: { s3: s3Options } }),
        NoSuchKeyError,
        ['in/missing.txt'],
      );
      await rejectsWith(
        planPartitions(`s3://${b}/out/`, {}, { storage: store, uriDefaults: { s3: s3Options } }),
        PartitionError,
        ['names no object'],
      );
      await rejectsWith(
        planPartitions(`s3://${b}/in/*.csv`, {}, { storage: store, uriDefaults: { s3: s3Options } }),
        PartitionError,
        ['matched no object'],
      );
    } finally {
      await remote.delete(b, ['in/x.txt', 'in/y.txt']);
      await remote.deleteBucket(b);
      await remote.close?.();
    }
  });
});
