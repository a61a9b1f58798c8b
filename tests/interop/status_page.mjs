// The status page at `/` in a real browser: headless Chromium (Debian's) loads it from a
// `tablelake serve` whose BaseIncTask keeps delivering what a writer writes, and the test checks
// what the page shows - tables, the task's phase, sync time, lag, counters and recent files - and
// that it refreshes by itself; that it is read-only until the viewer signs in (a wrong secret is
// refused), that a signed-in viewer can restart and delete the task, and that the page loads
// nothing from anywhere else. With SCREENSHOT=FILE it also saves a picture of the page.
//   node tests/interop/status_page.mjs TABLELAKE_BINARY
import assert from 'assert/strict';
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createRequire } from 'module';
import { runAgainst, startServe } from './raw_client.mjs';
import { test, assertEq, summarize } from './harness.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const bin = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tablelake-status-'));
const lake = path.join(dir, 'lake');
fs.mkdirSync(path.join(lake, 'bkt'), { recursive: true });
const SECRET = 'page-secret-' + Math.random().toString(36).slice(2);
const serve = await startServe(bin, ['--data', path.join(dir, 'data'), '--instance', 'inst',
  '--access-key-id', 'PAGEKEY'], { TABLELAKE_ACCESS_KEY_SECRET: SECRET });
const origin = `http://127.0.0.1:${serve.port}`;
const tl = (args, input) => execFileSync(bin, ['--endpoint', origin, '--instance', 'inst', ...args], {
  input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'],
  env: { ...process.env, TABLELAKE_ACCESS_KEY_ID: 'PAGEKEY', TABLELAKE_ACCESS_KEY_SECRET: SECRET },
});
let nextId = 0;
const writeRows = (n) => {
  const rows = [];
  for (let i = 0; i < n; i++, nextId++) rows.push(JSON.stringify({ id: nextId, city: `c${nextId % 7}`, amount: nextId * 1.5 }));
  tl(['put', 'orders'], rows.join('\n') + '\n');
};

await runAgainst(serve, dir, async () => {
  tl(['table', 'create', 'orders', '--pk', 'id:INTEGER', '--stream-hours', '24']);
  writeRows(500);
  tl(['delivery', 'create', '--table', 'orders', '--name', 'orderlake', '--type', 'baseinc', '--bucket', 'bkt',
    '--oss-endpoint', `file://${lake}`, '--prefix', 'orders/dt=$yyyy-$MM-$dd', '--flush-seconds', '1',
    '--schema', 'id:id:INT64,city:city:UTF8,amount:amount:DOUBLE']);
  const writer = setInterval(() => writeRows(50), 300);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 560 } });
  const elsewhere = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin)) elsewhere.push(r.url()); });
  page.on('dialog', (d) => d.accept());
  const task = 'tr.task[data-task="orderlake"]';
  const rowsShown = async () => Number(await page.textContent(`${task} td.rows`));
  try {
    await test('the page shows the tables and the delivering task', async () => {
      await page.goto(origin + '/');
      await page.waitForSelector(`${task} td.phase:text("INCR")`, { timeout: 30000 });
      assert.match(await page.textContent('section.instance'), /orders\s+id INTEGER\s+24 h/);
      const cells = await page.$$eval(`${task} td`, (tds) => tds.map((td) => td.textContent.trim()));
      assertEq(cells.slice(0, 4), ['orders', 'orderlake', 'BaseIncTask', 'INCR'], 'task, type, phase');
      assert.match(cells[4], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'synced-to time');
      assert.match(cells[5], /^\d+\.\d s$/, 'lag');
      assert.ok(Number(cells[6]) >= 500, `rows delivered: ${cells[6]}`);
      assert.match(cells[10], /^ok/, 'no error');
      assert.match(await page.textContent(`${task} .files`), /orders\/dt=\d{4}-\d\d-\d\d\/.*\.parquet \(\d+ rows, /);
      assert.match(await page.textContent('#meta'), /read-only/);
      assertEq(await page.$$(`${task} button`), [], 'no buttons before signing in');
    });

    await test('it refreshes by itself as rows are delivered', async () => {
      const before = await rowsShown();
      await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel)?.textContent) > n,
        [`${task} td.rows`, before + 200], { timeout: 30000 });
      if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
      const png = await page.screenshot();
      assert.ok(png.length > 10000 && png.subarray(1, 4).toString() === 'PNG', 'a screenshot');
    });

    await test('changing a task needs signing in; a wrong secret is refused', async () => {
      const r = await fetch(origin + '/status/action', { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'delete', instance: 'inst', table: 'orders', task: 'orderlake' }) });
      assertEq(r.status, 403, 'action without a session');
      await page.fill('#key', 'PAGEKEY');
      await page.fill('#secret', 'not-the-secret');
      await page.click('#signin button');
      await page.waitForSelector('#banner:text("unknown access key id or wrong secret")');
      assertEq(await page.$$(`${task} button`), [], 'still no buttons');
    });

    await test('signed in: restart, then delete the task', async () => {
      await page.fill('#secret', SECRET);
      await page.click('#signin button');
      await page.waitForSelector('#who:text("signed in as PAGEKEY")');
      await page.waitForSelector(`${task} button[data-action="restart"]`);
      const before = await rowsShown();
      await page.click(`${task} button[data-action="restart"]`);
      await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel)?.textContent) > n,
        [`${task} td.rows`, before + 100], { timeout: 30000 });
      await page.click(`${task} button[data-action="delete"]`);
      await page.waitForSelector(task, { state: 'detached', timeout: 10000 });
      assert.match(tl(['delivery', 'list']), /^TABLE\s+TASK\s+TYPE.*\n$/);
      await page.click('#signout button');
      await page.waitForSelector('#meta:text("read-only")');
    });

    await test('the page loads nothing from elsewhere', async () => {
      assertEq(elsewhere, [], 'requests to other origins');
    });
  } finally {
    clearInterval(writer);
    await browser.close();
  }
  summarize();
});
