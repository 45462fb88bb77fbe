/**
 * docs/ARCHITECTURE.md stays true: its layer table says which part of src/ may import which, and this
 * test reads the table and the static imports of every source file. It also keeps backends and
 * storage drivers from importing one another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Static relative imports (not `import type`, not dynamic) as [from, to] src-relative paths. */
function edges(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)\.js';/gms)) {
      out.push([relative(src, file), relative(src, resolve(dirname(file), `${m[1]}.ts`))]);
    }
  }
  return out;
}

const partOf = (path: string): string => (path.includes('/') ? (path.split('/')[0] as string) : '(root)');

/** The layer table between the layers markers of docs/ARCHITECTURE.md: part → parts it may import. */
function layerTable(): Map<string, Set<string> | 'any'> {
  const doc = readFileSync(join(root, 'docs/ARCHITECTURE.md'), 'utf8');
  const block = /<!-- layers:start -->([\s\S]*?)<!-- layers:end -->/.exec(doc)?.[1];
  assert.ok(block, 'docs/ARCHITECTURE.md has a layer table between <!-- layers:start --> and <!-- layers:end -->');
  const table = new Map<string, Set<string> | 'any'>();
  for (const line of block.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || cells[1] === 'part' || /^-+$/.test(cells[1] ?? '')) continue;
    const [, part, , allowed] = cells as [string, string, string, string];
    table.set(
      part,
      allowed === 'any part'
        ? 'any'
        : new Set(
            allowed
              .split(',')
              .map((p) => p.trim())
              .filter(Boolean),
          ),
    );
  }
  return table;
}

test('every folder of src/ is a part of the layer table, and every part exists', () => {
  const table = layerTable();
  const folders = readdirSync(src, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  for (const f of folders) assert.ok(table.has(f), `src/${f}/ is not in the layer table of docs/ARCHITECTURE.md`);
  for (const part of table.keys()) {
    assert.ok(
      part === '(root)' || folders.includes(part),
      `the layer table names ${part}, which is not a folder of src/`,
    );
  }
});

test('no part imports a part its row of the layer table does not name', () => {
  const table = layerTable();
  const all = edges();
  assert.ok(
    all.some(([a, b]) => a.startsWith('executor/') && b.startsWith('backends/')),
    'the import reader sees imports',
  );
  const crossings: string[] = [];
  for (const [from, to] of all) {
    const [a, b] = [partOf(from), partOf(to)];
    const allowed = table.get(a);
    if (a === b || allowed === 'any') continue;
    if (!allowed?.has(b)) crossings.push(`${from} → ${to} (${a} may not import ${b})`);
  }
  assert.deepEqual(crossings, [], 'imports that cross the layer table of docs/ARCHITECTURE.md');
});

test('a backend never imports another backend, nor a storage driver another driver', () => {
  const crossings: string[] = [];
  for (const [from, to] of edges()) {
    for (const top of ['backends', 'storage']) {
      const own = new RegExp(`^${top}/([^/]+)/`);
      const a = own.exec(from)?.[1];
      const b = own.exec(to)?.[1];
      // backends/http/ is the shared code of the HTTP-worker backends.
      if (a && b && a !== b && b !== 'http') crossings.push(`${from} → ${to}`);
    }
  }
  assert.deepEqual(crossings, []);
});

test('the layer check can fail: a planted crossing is reported', () => {
  const table = layerTable();
  const storageRow = table.get('storage');
  assert.ok(storageRow instanceof Set && !storageRow.has('executor'), 'storage may not import executor');
});
