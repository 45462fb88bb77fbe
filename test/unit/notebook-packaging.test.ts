/** The parts of notebook packaging that need no kernel: line alignment, data copies, module lookup. */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';
import { deserialize } from 'node:v8';
import { alignLines, isNotebookCellSource } from '../../src/packaging/notebook-cell.ts';
import { dataDeclaration, DESERIALIZE, importOf } from '../../src/packaging/notebook-values.ts';
import { PackagingError } from '../../src/errors.ts';

test('a TypeScript cell line is found for each line tslab reprinted', () => {
  const ts =
    'interface T { n: number }\n\nfunction checked(t: T) {\n  if (t.n > 50) throw new RangeError(`too many: ${t.n}`);\n  return t.n;\n}';
  const js =
    'function checked(t) {\n    if (t.n > 50)\n        throw new RangeError(`too many: ${t.n}`);\n    return t.n;\n}';
  // The closing brace has no words: it stays on the line matched before.
  assert.deepEqual(alignLines(js, ts, 2), [2, 3, 3, 4, 4]);
});

test('tslab cell code is recognised by its wrapper only', () => {
  assert.ok(
    isNotebookCellSource('(function(exports, require) { const a = 1;\n})(__tslab__.exports, __tslab__.require)'),
  );
  assert.ok(!isNotebookCellSource('(function(exports, require) { const a = 1; })()'));
});

test('data is copied by value; instances of classes are refused naming the name', () => {
  assert.equal(dataDeclaration('n', 42, 'f'), 'const n = 42;');
  const decl = dataDeclaration('m', new Map([[1, [2, 3]]]), 'f');
  const base64 = /Buffer\.from\("([^"]+)"/.exec(decl)?.[1] ?? '';
  assert.ok(decl.startsWith(`const m = ${DESERIALIZE}(`));
  assert.deepEqual(deserialize(Buffer.from(base64, 'base64')), new Map([[1, [2, 3]]]));
  class Point {}
  assert.throws(
    () => dataDeclaration('origin', new Point(), 'f'),
    (e: unknown) => {
      return e instanceof PackagingError && /"origin", which holds an instance of Point/.test(e.message);
    },
  );
});

test('a loaded module, its namespace copy and its exports become imports', () => {
  assert.equal(importOf('p', path.join), 'import { "join" as p } from "node:path";');
  // TypeScript's __importStar copy of a CommonJS module keeps the module as `default`.
  const required = createRequire(import.meta.url)('node:path') as typeof path;
  assert.equal(importOf('q', { default: required, join: required.join }), 'import * as q from "node:path";');
  assert.equal(importOf('r', { some: 'data' }), undefined);
});
