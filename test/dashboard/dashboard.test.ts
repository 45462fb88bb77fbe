/**
 * `burst dashboard` in a real headless browser: Debian's chromium driven by playwright-core. A job is
 * written into storage by hand, call by call, as workers would, and the page must show it live: the
 * counts, the progress, the failed call with its error and output, the timeline, and the end of the
 * job. A screenshot is saved (its path is printed) to look at.
 *
 * Skips with a printed reason when /usr/bin/chromium is missing, unless BURST_REQUIRE_SERVICES=1.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import {
  burst,
  fails,
  sandbox,
  sandboxStorage,
  startBurst,
  statusRecord,
  writeManifest,
  writeStatuses,
  type Sandbox,
} from '../cli/helpers.ts';
import type { StorageDriver } from '../../src/storage/types.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function skipReason(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${CHROMIUM} is not installed (apt-get install chromium)`;
  if (process.env.BURST_REQUIRE_SERVICES === '1') throw new Error(`BURST_REQUIRE_SERVICES=1 but ${why}`);
  console.log(`# skipping the dashboard browser test: ${why}`);
  return why;
}

/** Starts the dashboard on a free port and resolves with its URL. */
function startDashboard(box: Sandbox): Promise<{ url: string; child: ChildProcess }> {
  const child = startBurst(['dashboard', '--port', '0'], box);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64})/.exec(out);
      if (m) resolve({ url: m[1] as string, child });
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`the dashboard exited with ${code}: ${err}`)));
  });
}

describe('burst dashboard', () => {
  let box: Sandbox;
  let storage: StorageDriver;
  before(async () => {
    box = sandbox();
    storage = await sandboxStorage(box);
  });
  after(() => box.cleanup());

  it('refuses a bad port', async () => {
    fails(await burst(['dashboard', '--port', 'eighty'], box), '--port must be a port number');
  });

  it('shows a job live in a real browser, then its end', { skip: skipReason(), timeout: 120_000 }, async () => {
    // Times as workers would report them: each call ends just before its record is written.
    const t0 = Date.now() - 2000;
    const endsNow = (id: number): number => Date.now() - 100 * id - 260;
    const jobKey = await writeManifest(storage, 'mwx0aaaa-live01', 'M000', 12, t0);
    const ok = (id: number) => statusRecord(id, endsNow(id), { logs: `working on ${id}\n` });
    await writeStatuses(storage, jobKey, [0, 1, 2, 3].map(ok));
    await writeStatuses(storage, jobKey, [
      statusRecord(4, endsNow(4), { fail: 'cannot open input-4.csv', logs: 'reading input-4.csv\nretrying once\n' }),
    ]);
    // An older executor whose job ran over IPC: status batches and no manifest.
    await storage.put(
      'burst',
      'burst/jobs/mwwzzzzz-ipc001/M000/status-batches/00000',
      JSON.stringify([statusRecord(0, t0), statusRecord(1, t0)]),
    );

    const { url, child } = await startDashboard(box);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      await page.goto(url);
      await page.locator('#job-title').filter({ hasText: 'mwx0aaaa-live01/M000' }).waitFor({ timeout: 20_000 });
      // The list has both executors; the newest job is selected.
      const nav = (await page.locator('#jobs').textContent()) ?? '';
      assert.match(nav, /executor mwx0aaaa-live01/);
      assert.match(nav, /executor mwwzzzzz-ipc001/);
      assert.match(nav, /no manifest/);
      assert.match(
        await page.locator('#chips').innerText(),
        /12 calls[\s\S]*4 succeeded[\s\S]*1 failed[\s\S]*7 pending[\s\S]*running/,
      );
      assert.equal(await page.locator('#progress').innerText(), '5 of 12 calls finished (41%)');
      const failures = await page.locator('#failures').innerText();
      assert.match(failures, /call 4: Error: cannot open input-4\.csv/);
      assert.match(failures, /reading input-4\.csv\s+retrying once/);
      await page.locator('#timeline svg').waitFor({ timeout: 20_000 });
      assert.equal(await page.locator('#calls .cell.success').count(), 4);

      const shots = process.env.BURST_SCREENSHOT_DIR ?? tmpdir();
      await page.screenshot({ path: join(shots, 'burst-dashboard-running.png'), fullPage: true });

      // Clicking a call shows its output.
      await page.locator('#calls .cell').nth(2).click();
      await page.locator('#call-output').filter({ hasText: 'working on 2' }).waitFor({ timeout: 10_000 });

      // The rest of the calls land; the page follows without a reload.
      await writeStatuses(storage, jobKey, [5, 6, 7, 8, 9, 10, 11].map(ok));
      await page.locator('#job-state').filter({ hasText: 'finished' }).waitFor({ timeout: 20_000 });
      assert.equal(await page.locator('#progress').innerText(), '12 of 12 calls finished (100%)');
      assert.equal(await page.locator('#calls .cell.success').count(), 11);
      await page.locator('#jobs .job.selected').filter({ hasText: '12/12 · 1 failed' }).waitFor({ timeout: 10_000 });
      await page.waitForFunction(
        () => document.querySelectorAll('#timeline svg path, #timeline svg rect').length > 12,
        undefined,
        { timeout: 20_000 },
      );
      await page.screenshot({ path: join(shots, 'burst-dashboard-finished.png'), fullPage: true });
      console.log(`# dashboard screenshots: ${join(shots, 'burst-dashboard-{running,finished}.png')}`);

      // The JSON API refuses what it cannot answer.
      const api = async (path: string): Promise<number> => (await page.request.get(new URL(path, url).href)).status();
      assert.equal(await api('/api/job'), 400);
      assert.equal(await api('/api/job?job=nope/M999'), 404);
      assert.equal(await api('/api/logs?job=mwx0aaaa-live01/M000&call=x'), 400);
      assert.equal(await api('/nothing-here'), 404);
    } finally {
      await browser.close();
      child.kill('SIGTERM');
    }
  });
});
