/**
 * Every example answers `--help` with its usage (exit 0, nothing run) and an unknown flag with the
 * reason and the usage (exit 2), run as `npm run example:<name> -- --help` runs it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repo, tsx } from './helpers.ts';

/** The quickstart is the README's four-line program: it takes no flags at all. */
const NO_FLAGS = new Set(['quickstart']);

const examples = readdirSync(join(repo, 'examples')).filter(
  (d) => existsSync(join(repo, 'examples', d, 'main.ts')) && !NO_FLAGS.has(d),
);

function run(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', tsx, join(repo, 'examples', name, 'main.ts'), ...args],
      { cwd: repo, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('examples --help', () => {
  it('finds the examples, and every example with flags has an npm script', () => {
    assert.ok(examples.length >= 5, `examples found: ${examples.join(', ')}`);
    const scripts = (
      JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    for (const name of examples)
      assert.ok(scripts[`example:${name}`], `package.json should have a script example:${name}`);
  });

  for (const name of examples) {
    it(`${name}: --help prints the usage and exits 0; an unknown flag exits 2 with the reason`, async () => {
      const [help, bad] = await Promise.all([run(name, ['--help']), run(name, ['--no-such-flag'])]);
      assert.equal(help.code, 0, `exit ${help.code}\n${help.stderr}`);
      assert.match(help.stdout, /^Usage: /);
      for (const flag of ['--backend', '--storage', '--workers', '--config', '--help'])
        assert.ok(help.stdout.includes(flag), `${name} --help should name ${flag}`);
      assert.equal(help.stderr, '');
      assert.equal(bad.code, 2, `exit ${bad.code}\n${bad.stderr}`);
      assert.match(bad.stderr, /Unknown option '--no-such-flag'/);
      assert.match(bad.stderr, /Usage: /);
      assert.doesNotMatch(bad.stderr, /\n {4}at /, 'no stack trace');
    });
  }
});
