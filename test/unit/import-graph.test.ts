/**
 * The house rules on imports (DESIGN.md): no import cycles in src/, and the worker side never loads
 * client-only code. Reads the static `import … from` and `export … from` lines of every source file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const src = resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Static (not `import type`, not dynamic) relative imports of each file, as src-relative paths. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)\.js';/gms)) {
      deps.push(relative(src, resolve(dirname(file), `${m[1]}.ts`)));
    }
    g.set(relative(src, file), deps);
  }
  return g;
}

test('src/ has no import cycles', () => {
  const g = graph();
  assert.ok(g.get('worker/handler.ts')?.includes('worker/pool.ts'), 'the import reader sees imports');
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (node: string, path: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      cycles.push([...path.slice(path.indexOf(node)), node].join(' → '));
      return;
    }
    state.set(node, 'open');
    for (const dep of g.get(node) ?? []) visit(dep, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of g.keys()) visit(node, []);
  assert.deepEqual(cycles, []);
});

test('the worker entries never load client-only code statically', () => {
  const g = graph();
  const entries = [
    'worker/child.ts',
    'worker/handler.ts',
    'worker/entries/http.ts',
    'backends/aws_lambda/worker/entry.ts',
  ];
  const reached = new Set<string>();
  const walk = (node: string): void => {
    if (reached.has(node)) return;
    reached.add(node);
    for (const dep of g.get(node) ?? []) walk(dep);
  };
  for (const e of entries) {
    assert.ok(g.has(e), `${e} exists`);
    walk(e);
  }
  // A backend's worker/ folder is worker-side code (the Lambda handler and its invoker).
  const clientOnly = [...reached].filter(
    (f) => /^(cli|executor|dashboard|stats|backends)\//.test(f) && !/^backends\/[^/]+\/worker\//.test(f),
  );
  assert.deepEqual(clientOnly, [], 'worker code reaches client-only modules');
});
