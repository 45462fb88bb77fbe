/**
 * No plain `Error` on a path that reaches users: every `new Error(` in src/ carries an `// internal:`
 * comment (on its line or the line above) saying why it never reaches one, and nothing throws a string.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../src/', import.meta.url).pathname;

/**
 * True when an `// internal:` comment opens the statement that line `i` belongs to: a comment line at
 * most four lines up with no blank line between (a formatter wraps a long statement over lines).
 */
function reasonAbove(lines: string[], i: number): boolean {
  for (let j = i - 1; j >= Math.max(0, i - 4); j--) {
    const above = lines[j] ?? '';
    if (/^\s*\/\/ internal: \S/.test(above)) return true;
    if (above.trim() === '' || /;\s*$/.test(above)) return false;
  }
  return false;
}

/** The findings of one file's text: `line: text` for each plain Error without a reason, and each thrown string. */
export function plainErrors(text: string): string[] {
  const lines = text.split('\n');
  const found: string[] = [];
  lines.forEach((line, i) => {
    const internal = /\/\/ internal: \S/.test(line) || reasonAbove(lines, i);
    if (/\bnew Error\(/.test(line) && !internal) found.push(`${i + 1}: ${line.trim()}`);
    if (/\bthrow\s+['"`]/.test(line) || /Promise\.reject\(\s*['"`]/.test(line)) found.push(`${i + 1}: ${line.trim()}`);
  });
  return found;
}

test('the check finds what it looks for', () => {
  assert.deepEqual(plainErrors("if (x) throw new Error('bad');"), ["1: if (x) throw new Error('bad');"]);
  assert.deepEqual(plainErrors('throw \'bad\';\nthrow `bad ${x}`;\nreturn Promise.reject("no");').length, 3);
  assert.deepEqual(plainErrors("// internal: never leaves this file\nthrow new Error('ok');"), []);
  assert.deepEqual(plainErrors("throw new Error('ok'); // internal: caught below"), []);
  assert.equal(plainErrors("// internal:\nthrow new Error('a reason is required');").length, 1);
  assert.equal(plainErrors("// internal: too far\n\nthrow new Error('x');").length, 1);
  assert.deepEqual(
    plainErrors("// internal: a wrapped statement\nreject(\n  Object.assign(new Error('x'), {}),\n);"),
    [],
  );
  assert.equal(plainErrors("// internal: another statement\nfoo();\nthrow new Error('x');").length, 1);
  assert.deepEqual(plainErrors("throw new ConfigError('typed');\nconst e = new TypeError('x');"), []);
});

test('src/ has no plain new Error( without an // internal: reason, and throws no strings', () => {
  const findings: string[] = [];
  let files = 0;
  for (const file of readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => /\.[cm]?ts$/.test(f))) {
    files++;
    for (const f of plainErrors(readFileSync(join(root, file), 'utf8'))) findings.push(`src/${file}:${f}`);
  }
  assert.ok(files > 100, `the scan read src/ (${files} files)`);
  assert.deepEqual(findings, [], 'use a BurstError subclass from src/errors.ts, or say why it never reaches a user');
});
