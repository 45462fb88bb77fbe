/**
 * The storage options' TSDoc reaches users (issue 20): in the built declaration files, hovering an
 * option of `new FunctionExecutor({ s3: { ... } })` shows the S3 option's documentation and default,
 * as an editor does (the TypeScript language service over dist/, `npm run build` first).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { repo } from '../fixtures/linked-consumer.ts';

test('hovering s3 and fs options of the executor shows their TSDoc and defaults from dist/', () => {
  const dir = mkdtempSync(join(tmpdir(), 'burst-option-docs-'));
  try {
    const file = join(dir, 'main.ts');
    const source = `import { FunctionExecutor } from ${JSON.stringify(join(repo, 'dist/index.js'))};\nnew FunctionExecutor({ s3: { endpoint: 'http://x', partSize: 5 }, fs: { shared: true } });\n`;
    writeFileSync(file, source);
    const host: ts.LanguageServiceHost = {
      getScriptFileNames: () => [file],
      getScriptVersion: () => '1',
      getScriptSnapshot: (f) => {
        try {
          return ts.ScriptSnapshot.fromString(readFileSync(f, 'utf8'));
        } catch {
          return undefined;
        }
      },
      getCurrentDirectory: () => dir,
      getCompilationSettings: () => ({
        strict: true,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        skipLibCheck: true,
      }),
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: ts.sys.fileExists,
      readFile: ts.sys.readFile,
    };
    const service = ts.createLanguageService(host);
    const hover = (needle: string): { text: string; docs: string; tags: string[] } => {
      const info = service.getQuickInfoAtPosition(file, source.indexOf(needle));
      return {
        text: ts.displayPartsToString(info?.displayParts),
        docs: ts.displayPartsToString(info?.documentation),
        tags: (info?.tags ?? []).map((t) => `@${t.name} ${ts.displayPartsToString(t.text)}`),
      };
    };
    const endpoint = hover('endpoint');
    assert.match(endpoint.text, /S3Options\.endpoint\?: string/);
    assert.match(endpoint.docs, /URL of an S3-compatible endpoint/);
    assert.ok(
      endpoint.tags.some((t) => t.startsWith('@default process.env.BURST_S3_ENDPOINT')),
      endpoint.tags.join('; '),
    );
    const partSize = hover('partSize');
    assert.match(partSize.docs, /Bytes per part of a multipart upload/);
    assert.deepEqual(partSize.tags, ['@default 16 MiB']);
    assert.match(hover('shared').docs, /filesystem every worker host mounts/);
    assert.match(hover('s3:').docs, /Options of the `s3` storage driver/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
