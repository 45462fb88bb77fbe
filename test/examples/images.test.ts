/**
 * examples/images, run as a user runs it. What this covers: real face detection (face-api's SSD
 * MobileNet and 68-point landmark models, from the weights in its npm package, on TensorFlow.js's WASM
 * backend) on the real photographs that package ships, plus turned copies made by a first `map`;
 * sharp (a native addon) loading in the workers from the project's node_modules; reading each image
 * and writing each aligned face with `ctx.storage`; and the alignment itself, checked by finding the
 * eyes again in every crop. It does not cover photographs other than the package's six.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { runExample, withTempDir } from './helpers.js';

test('images --small: finds the faces of 8 images and writes each one aligned, 180×180', async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, 'storage');
    const sheet = join(dir, 'sheet.jpg');
    const { stdout } = await runExample('images', ['--small', '--sheet', sheet], root, 120_000);
    assert.match(stdout, /made 8 test images from face-api's sample photographs/);

    // One line per image: the six photographs and two copies turned by 15°, each with faces.
    const lines = stdout.split('\n').filter((l) => /^\d{4}-sample\d/.test(l));
    assert.equal(lines.length, 8, stdout);
    assert.ok(
      lines.some((l) => l.startsWith('0006-sample1-r15.jpg')),
      stdout,
    );
    const perImage = lines.map((l) => Number(/(\d+) faces?/.exec(l)?.[1]));
    assert.ok(
      perImage.every((n) => n >= 1),
      `an image without a face:\n${lines.join('\n')}`,
    );
    const total = perImage.reduce((a, b) => a + b, 0);
    assert.ok(total >= 20, `only ${total} faces in:\n${stdout}`);
    assert.match(stdout, new RegExp(`^8 images, ${total} faces aligned in [\\d.]+ s`, 'm'));

    // Every face was written through ctx.storage as a 180×180 JPEG under the output prefix.
    const out = join(root, 'burst-examples', 'faces-8-aligned');
    const files = (await readdir(out)).filter((f) => f.endsWith('.jpg'));
    assert.equal(files.length, total);
    for (const f of files.slice(0, 10)) {
      const meta = await sharp(join(out, f)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 180, 180], f);
    }

    // The alignment check: the eyes found again in most crops are level.
    const check = /eyes level within 5° in (\d+) of (\d+) aligned faces/.exec(stdout);
    assert.ok(check, stdout);
    const [level, checked] = [Number(check[1]), Number(check[2])];
    assert.ok(checked >= total - 4 && level >= 0.8 * checked, check[0]);

    const meta = await sharp(sheet).metadata();
    assert.equal(meta.width, 8 * 180);
  });
});

test('images --input: processes your own folder and skips what is not an image', async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, 'storage');
    const photos = join(root, 'mine', 'photos');
    await mkdir(photos, { recursive: true });
    const demo = join(dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');
    await copyFile(join(demo, 'sample3.jpg'), join(photos, 'party.jpg'));
    await writeFile(join(photos, 'notes.txt'), 'not an image');
    const { stdout } = await runExample(
      'images',
      ['--input', 'fs://mine/photos/', '--workers', '1', '--sheet', join(dir, 's.jpg')],
      root,
      120_000,
    );
    assert.doesNotMatch(stdout, /made \d+ test images/);
    assert.match(stdout, /^party\.jpg +1920×1350 +[1-9]\d* faces?/m);
    assert.match(stdout, /^skipped fs:\/\/mine\/photos\/notes\.txt: /m);
    assert.match(stdout, /^aligned faces: fs:\/\/mine\/photos-aligned\//m);
    const written = await readdir(join(root, 'mine', 'photos-aligned'));
    assert.ok(written.length >= 1 && written.every((f) => /^party-face\d+\.jpg$/.test(f)), written.join(' '));
  });
});
