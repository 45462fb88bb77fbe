import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCommand } from '../../src/backends/slurm/command.js';

// A Slurm command may exit before it reads what we pipe to it (scancel never reads it; sbatch stops at a bad
// option). CI run 28 lost a test to the EPIPE this raised on our side of the pipe.
const big = 'x'.repeat(4 << 20);

test('a command that exits without reading its stdin: the exit code decides, no EPIPE escapes', async () => {
  await assert.rejects(runCommand('sh', ['-c', 'echo refused >&2; exit 3'], big), (err: Error & { code?: number }) => {
    assert.equal(err.code, 3);
    assert.equal(err.message, 'refused');
    return true;
  });
  const out = await runCommand('sh', ['-c', 'echo ok'], big);
  assert.equal(out.stdout, 'ok\n');
});

test('a command reads its input whole; with no input its stdin is empty', async () => {
  const out = await runCommand('sh', ['-c', 'wc -c'], big);
  assert.equal(Number(out.stdout.trim()), big.length);
  const none = await runCommand('sh', ['-c', 'cat; echo end'], undefined);
  assert.equal(none.stdout, 'end\n');
});

test('a command that fails without printing is named with its exit code', async () => {
  await assert.rejects(runCommand('sh', ['-c', 'exit 7']), { message: 'sh exited with 7' });
});
