// End-to-end delivery through the `tablelake` CLI, checked by DuckDB reading the bucket.
//   node delivery_e2e.mjs TABLELAKE_BINARY
// Prints "N passed, M failed" and exits non-zero on any failure.
import { execFileSync, spawn, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { DuckDBInstance } from '@duckdb/node-api';
import { test, assertEq, finish } from './harness.mjs';

const bin = process.argv[2];
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tablelake-e2e-'));
const data = path.join(root, 'data');
const lake = path.join(root, 'lake');
const db = await (await DuckDBInstance.create(':memory:')).connect();

function tl(args, input) {
  return execFileSync(bin, ['--data', data, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}
function tlFails(args) {
  try {
    tl(args);
  } catch (e) {
    return e.stderr.trim();
  }
  return null;
}
async function query(sql) {
  return (await db.runAndReadAll(sql)).getRowObjectsJson();
}
function bucket(name) {
  fs.mkdirSync(path.join(lake, name), { recursive: true });
  return ['--bucket', name, '--oss-endpoint', `file://${lake}`];
}
function describe(table, name) {
  return JSON.parse(tl(['delivery', 'describe', '--table', table, '--name', name]));
}

// ---- the seed's sample table ----
tl(['table', 'create', 'sampleTable', '--pk', 'PK1:INTEGER', '--pk', 'PK2:STRING']);
const rows = [];
for (let i = 0; i < 2000; i++) {
  rows.push({
    PK1: i % 50, PK2: `k${i}`, Col1: i + 0.5, n: i * 7, flag: i % 3 === 0, price: `${i}.${String(i % 100).padStart(2, '0')}`,
    day: 20000 + (i % 40), ts: 1795478400000 + i * 1000, tags: JSON.stringify([i, i + 1]),
    // Keys in order (read by the plain fast path), and out of order every 7th row (the general
    // path, which sorts them): the same map either way.
    attrs: i % 7 === 0 ? `{"b":${i + 1},"a":${i}}` : `{"a":${i},"b":${i + 1}}`,
    ...(i % 10 === 0 ? {} : { note: `note ${i} é` }),
  });
}
tl(['put', 'sampleTable'], rows.map((r) => JSON.stringify(r)).join('\n'));
// Dirty rows: a STRING where DOUBLE is expected, a decimal with too many digits.
tl(['put', 'sampleTable', JSON.stringify({ PK1: 999, PK2: 'dirty1', Col1: 'text' })]);
tl(['put', 'sampleTable', JSON.stringify({ PK1: 999, PK2: 'dirty2', Col1: 1.5, price: '123456789.123' })]);

const schema = 'PK1:PK1:INT64,PK2:PK2:UTF8,Col1:Col1:DOUBLE,n:n:INT32:DELTA_BINARY_PACKED,flag:flag:BOOL,' +
  'price:price:DECIMAL(10,2),day:day:DATE,ts:ts:TIMESTAMP_MILLIS,tags:tags:LIST(INT64),attrs:attrs:MAP(INT64),' +
  'note:note:UTF8:PLAIN_DICTIONARY';

await test('BaseTask delivers every row once into hive partitions', async () => {
  tl(['delivery', 'create', '--table', 'sampleTable', '--name', 'sample-base', '--type', 'base', ...bucket('b1'),
      '--prefix', 'sample/year=$yyyy/month=$MM', '--dirty-prefix', 'dirty/$yyyy', '--schema', schema]);
  const out = tl(['delivery', 'run', '--table', 'sampleTable', '--name', 'sample-base', '--once']);
  const d = describe('sampleTable', 'sample-base');
  assertEq([d.status.phase, d.status.finished, d.status.rows_delivered, d.status.dirty_rows], ['INCR', true, 2000, 2], 'status');
  const got = await query(`SELECT PK1, PK2, Col1, n, flag, CAST(price AS VARCHAR) AS price, CAST(day AS VARCHAR) AS day,
      epoch_ms(ts) AS ts, tags, CAST(attrs AS VARCHAR) AS attrs, note, year, month
      FROM read_parquet('${lake}/b1/sample/**/*.parquet', hive_partitioning=true)
      ORDER BY PK1, PK2`);
  const want = rows.map((r) => ({ ...r })).sort((a, b) => a.PK1 - b.PK1 || (a.PK2 < b.PK2 ? -1 : a.PK2 > b.PK2 ? 1 : 0));
  assertEq(got.length, want.length, 'row count');
  const now = new Date();
  for (let i = 0; i < want.length; i++) {
    const w = want[i], g = got[i];
    const date = new Date((w.day) * 86400000).toISOString().slice(0, 10);
    const expect = {
      PK1: String(w.PK1), PK2: w.PK2, Col1: w.Col1, n: w.n, flag: w.flag, price: w.price, day: date, ts: String(w.ts),
      tags: [String(JSON.parse(w.tags)[0]), String(JSON.parse(w.tags)[1])],
      attrs: `{a=${JSON.parse(w.attrs).a}, b=${JSON.parse(w.attrs).b}}`, note: w.note ?? null,
      year: String(now.getUTCFullYear()), month: String(now.getUTCMonth() + 1).padStart(2, '0'),
    };
    assertEq(g, expect, `row ${i}`);
  }
  const dirtyFiles = fs.readdirSync(path.join(lake, 'b1', 'dirty'), { recursive: true }).filter((f) => f.endsWith('.jsonl'));
  const dirty = dirtyFiles.flatMap((f) => fs.readFileSync(path.join(lake, 'b1', 'dirty', f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l));
  assertEq(dirty.map((x) => x.row.PK2).sort(), ['dirty1', 'dirty2'], 'dirty rows');
  if (!dirty.every((x) => x.reason.includes("column '"))) throw new Error('dirty reasons should name the column');
  if (!fs.existsSync(path.join(lake, 'b1', 'sample', '_SUCCESS'))) throw new Error('no _SUCCESS');
  const manifest = JSON.parse(fs.readFileSync(path.join(lake, 'b1', 'sample', fs.readdirSync(path.join(lake, 'b1', 'sample')).find((f) => f.endsWith('.manifest.json')))));
  assertEq(manifest.rows, 2000, 'manifest rows');
  // A second run of a finished task delivers nothing again.
  tl(['delivery', 'run', '--table', 'sampleTable', '--name', 'sample-base', '--once']);
  const again = await query(`SELECT count(*) AS n FROM read_parquet('${lake}/b1/sample/**/*.parquet')`);
  assertEq(again[0].n, '2000', 'rows after a second run');
});

await test('a prefix without variables puts every file in one folder', async () => {
  tl(['delivery', 'create', '--table', 'sampleTable', '--name', 'flat', '--type', 'base', ...bucket('b2'),
      '--prefix', 'all', '--schema', 'PK1:id:INT64,PK2:key:UTF8']);
  tl(['delivery', 'run', '--table', 'sampleTable', '--name', 'flat', '--once']);
  const files = fs.readdirSync(path.join(lake, 'b2', 'all')).filter((f) => f.endsWith('.parquet'));
  if (files.length !== 1) throw new Error(`files: ${files}`);
  const got = await query(`SELECT count(*) AS n, count(DISTINCT key) AS k FROM read_parquet('${lake}/b2/all/*.parquet')`);
  assertEq(got, [{ n: '2002', k: '2002' }], 'counts');  // the dirty rows fit this schema
});

// ---- event time partitioning on hour, day, month and year boundaries ----
await test('every event time format partitions by the parsed time', async () => {
  tl(['table', 'create', 'events', '--pk', 'id:INTEGER']);
  const cases = [
    ['rfc3339', '2025-12-31T23:59:59Z', '2025/12/31/23'], ['rfc3339', '2026-01-01T00:00:00Z', '2026/01/01/00'],
    ['rfc3339', '2026-01-01T07:30:00+08:00', '2025/12/31/23'], ['rfc3339', '2024-02-29T12:00:00.123456Z', '2024/02/29/12'],
    ['rfc1123', 'Mon, 02 Jan 2006 15:04:05 MST', '2006/01/02/22'], ['rfc1123', 'Thu, 31 Dec 2026 23:00:00 GMT', '2026/12/31/23'],
    ['rfc822', '02 Jan 06 15:04 UTC', '2006/01/02/15'], ['rfc822', '28 Feb 99 23:59 -0100', '1999/03/01/00'],
    ['rfc850', 'Monday, 02-Jan-06 15:04:05 PST', '2006/01/02/23'], ['unix', 1767225599, '2025/12/31/23'],
    ['unix', '1767225600', '2026/01/01/00'],
  ];
  let id = 0;
  for (const [format, value, expected] of cases) {
    const name = `ev-${id}`;
    tl(['put', 'events', JSON.stringify({ id: id, t: value })]);
    tl(['delivery', 'create', '--table', 'events', '--name', name, '--type', 'base', ...bucket(`ev${id}`),
        '--prefix', 'p/$yyyy/$MM/$dd/$HH', '--event-time-column', 't', '--event-time-format', format,
        '--schema', 'id:id:INT64']);
    tl(['delivery', 'run', '--table', 'events', '--name', name, '--once']);
    // Every row of the table went through this task's parser: this case's row lands in its hour.
    const files = fs.readdirSync(path.join(lake, `ev${id}`, 'p'), { recursive: true }).filter((f) => f.endsWith('.parquet'));
    const got = await query(`SELECT id, filename FROM read_parquet('${lake}/ev${id}/p/**/*.parquet', filename=true) WHERE id = ${id}`);
    if (got.length !== 1 || !got[0].filename.includes(`/p/${expected}/`)) {
      throw new Error(`${format} '${value}': got ${JSON.stringify(got)} in ${files}`);
    }
    tl(['delivery', 'delete', '--table', 'events', '--name', name]);  // at most 10 tasks a table
    id++;
  }
});

await test('a row whose event time does not parse is dirty', async () => {
  tl(['table', 'create', 'badtime', '--pk', 'id:INTEGER']);
  tl(['put', 'badtime', JSON.stringify({ id: 1, t: 'yesterday' })]);
  tl(['put', 'badtime', JSON.stringify({ id: 2, t: '2026-11-24T10:00:00Z' })]);
  tl(['put', 'badtime', JSON.stringify({ id: 3 })]);
  tl(['delivery', 'create', '--table', 'badtime', '--name', 'bad-time', '--type', 'base', ...bucket('bt'), '--prefix', '$yyyy',
      '--event-time-column', 't', '--schema', 'id:id:INT64']);
  tl(['delivery', 'run', '--table', 'badtime', '--name', 'bad-time', '--once']);
  const d = describe('badtime', 'bad-time');
  assertEq([d.status.rows_delivered, d.status.dirty_rows], [1, 2], 'rows, dirty');
});

await test('time zones shift partitions', async () => {
  tl(['table', 'create', 'tz', '--pk', 'id:INTEGER']);
  tl(['put', 'tz', JSON.stringify({ id: 1, t: '2026-06-30T20:00:00Z' })]);
  for (const [zone, expected] of [['UTC', '2026/06/30'], ['Asia/Shanghai', '2026/07/01'], ['-05:00', '2026/06/30']]) {
    const name = `tz-${expected.replaceAll('/', '')}-${zone.length}`;
    tl(['delivery', 'create', '--table', 'tz', '--name', name, '--type', 'base', ...bucket(name), '--prefix', '$yyyy/$MM/$dd',
        '--event-time-column', 't', '--time-zone', zone, '--schema', 'id:id:INT64']);
    tl(['delivery', 'run', '--table', 'tz', '--name', name, '--once']);
    if (!fs.existsSync(path.join(lake, name, expected))) throw new Error(`${zone}: no ${expected}`);
  }
});

// ---- bad input: clear errors, nothing created ----
await test('bad task definitions are refused and create nothing', async () => {
  const base = ['delivery', 'create', '--table', 'sampleTable', ...bucket('bad')];
  const cases = [
    [['--name', 'Bad_Name', '--schema', 'PK1:PK1:INT64'], 'task name'],
    [['--name', 'ab', '--schema', 'PK1:PK1:INT64'], 'task name'],
    [['--name', 'okname', '--schema', 'PK1:PK1:INT64', '--prefix', 'x/$yy'], "unknown variable '$yy'"],
    [['--name', 'okname', '--schema', 'PK2:PK2:INT64'], 'STRING primary key column'],
    [['--name', 'okname', '--schema', 'Col1:Col1:NUMBER'], "unknown type 'NUMBER'"],
    [['--name', 'okname', '--schema', 'Col1:Col1:UTF8:DELTA_BINARY_PACKED'], 'DELTA_BINARY_PACKED'],
    [['--name', 'okname', '--schema', 'Col1:x:UTF8,n:x:INT64'], "'x' appears twice"],
    [['--name', 'okname', '--schema', 'Col1:a.b:UTF8'], 'a.b'],
    [['--name', 'okname', '--schema', 'price:price:DECIMAL(40,2)'], 'precision'],
    [['--name', 'okname'], 'no columns'],
    [['--name', 'okname', '--schema', 'PK1:PK1:INT64', '--event-time-column', 't', '--event-time-format', 'iso'], 'iso'],
    [['--name', 'okname', '--schema', 'PK1:PK1:INT64', '--time-zone', 'Mars/Olympus'], 'Mars/Olympus'],
    [['--name', 'okname', '--schema', 'PK1:PK1:INT64', '--type', 'weekly'], 'weekly'],
  ];
  for (const [args, expected] of cases) {
    const err = tlFails([...base, ...args]);
    if (!err || !err.includes(expected)) throw new Error(`${args.join(' ')}: got ${err}`);
  }
  assertEq(tlFails(['delivery', 'create', '--table', 'nope', '--name', 'okname', ...bucket('bad'), '--schema', 'a:a:INT64'])?.includes("table 'nope'"), true, 'missing table');
  assertEq(tlFails(['delivery', 'create', '--table', 'sampleTable', '--name', 'sample-base', ...bucket('bad'), '--schema', 'PK1:PK1:INT64'])?.includes('already has'), true, 'duplicate');
  const names = tl(['delivery', 'list', '--table', 'sampleTable', '--json']).trim().split('\n').map((l) => JSON.parse(l).name);
  assertEq(names.sort(), ['flat', 'sample-base'], 'tasks');
});

await test('a missing bucket is reported in the task status', async () => {
  tl(['delivery', 'create', '--table', 'sampleTable', '--name', 'nobucket', '--type', 'base', '--bucket', 'missing',
      '--oss-endpoint', `file://${lake}`, '--schema', 'PK1:PK1:INT64']);
  const err = tlFails(['delivery', 'run', '--table', 'sampleTable', '--name', 'nobucket', '--once']);
  if (!err?.includes("bucket 'missing' does not exist")) throw new Error(`got ${err}`);
  const d = describe('sampleTable', 'nobucket');
  assertEq([d.status.error.code, d.status.finished], ['INVALID_OSS_BUCKET', false], 'status');
  tl(['delivery', 'delete', '--table', 'sampleTable', '--name', 'nobucket']);
  assertEq(tlFails(['delivery', 'describe', '--table', 'sampleTable', '--name', 'nobucket'])?.includes('no delivery task'), true, 'deleted');
});

// ---- kill -9 in the middle of a base scan, then a re-run: every row exactly once ----
await test('kill -9 during a base scan, then a re-run resumes and delivers every row once', async () => {
  tl(['table', 'create', 'big', '--pk', 'id:INTEGER']);
  const n = 300000;
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(`{"id":${i},"v":"value-${i}","x":${i}.25}`);
  fs.writeFileSync(path.join(root, 'big.jsonl'), lines.join('\n'));
  tl(['import', 'big', path.join(root, 'big.jsonl'), '--format', 'jsonl']);
  tl(['delivery', 'create', '--table', 'big', '--name', 'bigbase', '--type', 'base', ...bucket('big'), '--prefix', 'd',
      '--file-mb', '1', '--schema', 'id:id:INT64,v:v:UTF8,x:x:DOUBLE']);
  const child = spawn(bin, ['--data', data, 'delivery', 'run', '--table', 'big', '--name', 'bigbase', '--once'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  // Kill it once a few segments are out: mid-scan, some files published, more to come.
  const dir = path.join(lake, 'big', 'd');
  const parquet = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.parquet')) : []);
  while (parquet().length < 4 && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGKILL');
  await exited;
  if (child.signalCode !== 'SIGKILL') throw new Error(`the run ended before it could be killed (${child.exitCode})`);
  const before = new Map(parquet().map((f) => [f, fs.statSync(path.join(dir, f)).mtimeMs]));
  const checkpoints = path.join(data, 'checkpoints');
  assertEq(fs.readdirSync(checkpoints).length, 1, 'the interrupted scan keeps its snapshot');
  tl(['delivery', 'run', '--table', 'big', '--name', 'bigbase', '--once']);
  const got = await query(`SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(id) AS s FROM read_parquet('${dir}/*.parquet')`);
  assertEq(got, [{ n: String(n), ids: String(n), s: String((n * (n - 1)) / 2) }], `after the kill (${before.size} files had been published)`);
  // The re-run resumed: files of the segments finished before the kill were not written again.
  const untouched = [...before].filter(([f, t]) => fs.existsSync(path.join(dir, f)) && fs.statSync(path.join(dir, f)).mtimeMs === t);
  if (untouched.length === 0) throw new Error('every file was rewritten: the scan restarted instead of resuming');
  // The killed writer's temporaries are removed by the recovery.
  const hidden = fs.readdirSync(dir).filter((f) => f.startsWith('.'));
  assertEq(hidden, [], 'temporaries left');
  assertEq(fs.readdirSync(checkpoints), [], 'checkpoints left');
});

// ---- kill -9 twice while three key ranges scan in parallel: each range resumes where it stood ----
await test('kill -9 twice during a scan of 3 parallel key ranges, then a re-run delivers every row once', async () => {
  const n = 300000;  // the table of the test above
  tl(['delivery', 'create', '--table', 'big', '--name', 'bigpar', '--type', 'base', ...bucket('bigpar'), '--prefix', 'd',
      '--file-mb', '1', '--schema', 'id:id:INT64,v:v:UTF8,x:x:DOUBLE']);
  const dir = path.join(lake, 'bigpar', 'd');
  const parquet = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.parquet')) : []);
  const run = ['--data', data, 'delivery', 'run', '--table', 'big', '--name', 'bigpar', '--once', '--ranges', '3'];
  const published = [];
  for (let kill = 0; kill < 2; kill++) {
    const child = spawn(bin, run, { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    const target = parquet().length + 3;
    while (parquet().length < target && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await exited;
    if (child.signalCode !== 'SIGKILL') throw new Error(`the run ended before it could be killed (${child.exitCode})`);
    published.push(parquet().length);
  }
  const last = spawnSync(bin, run, { encoding: 'utf8' });
  assertEq(last.status, 0, `the last run: ${last.stderr}`);
  // The ranges not done when the last kill came resume (a range may have ended before it).
  if (!/[123] key ranges? scanned at once/.test(last.stderr) || !/resumed an interrupted run/.test(last.stderr)) {
    throw new Error(`the last run did not resume the parallel ranges: ${last.stderr.split('\r').pop()}`);
  }
  // Its rows include the interrupted runs' work: no rows/s that would claim it.
  if (/rows\/s\)\s*$/.test(last.stderr) || !/so no rows\/s/.test(last.stderr)) {
    throw new Error(`the resumed run's summary claims a rate: ${last.stderr.split('\r').pop()}`);
  }
  const got = await query(`SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(id) AS s FROM read_parquet('${dir}/*.parquet')`);
  assertEq(got, [{ n: String(n), ids: String(n), s: String((n * (n - 1)) / 2) }], `after the kills (files published: ${published})`);
  // Every value as loaded (the ranges stage rows from views of their stored bytes).
  const wrong = await query(`SELECT count(*) AS n FROM read_parquet('${dir}/*.parquet')
    WHERE v IS DISTINCT FROM 'value-' || id OR x IS DISTINCT FROM id + 0.25`);
  assertEq(wrong, [{ n: '0' }], 'rows whose values differ from those loaded');
  const d = describe('big', 'bigpar');
  assertEq([d.status.rows_delivered, d.status.files_written, d.status.finished], [n, parquet().length, true], 'status');
  assertEq(fs.readdirSync(dir).filter((f) => f.startsWith('.')), [], 'temporaries left');
  assertEq(fs.readdirSync(path.join(data, 'checkpoints')), [], 'checkpoints left');
});

// ---- many partitions: grouped rows spill to runs and merge; kill -9 in both ----
await test('kill -9 while rows of 2 parallel ranges spill and while runs merge, over 120 partitions: each row once, one file per partition, nothing left', async () => {
  tl(['table', 'create', 'spread', '--pk', 'id:INTEGER']);
  // 120 partitions: each holds more than 64 KiB at a spill, so runs hold encoded row groups.
  const n = 250000, hours = 120, start = 472222 * 3600;
  let x = 7;
  const lines = [], partitions = new Set();
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const ts = start + (Math.floor(x / 65536) % hours) * 3600 + (i % 3600);
    partitions.add(Math.floor(ts / 3600));
    lines.push(`{"id":${i},"ts":${ts},"v":"${String(i).padEnd(150, 'v')}"}`);
  }
  fs.writeFileSync(path.join(root, 'spread.jsonl'), lines.join('\n'));
  tl(['import', 'spread', path.join(root, 'spread.jsonl'), '--format', 'jsonl']);
  tl(['delivery', 'create', '--table', 'spread', '--name', 'grouped', '--type', 'base', ...bucket('spread'),
    '--prefix', 'g/$yyyy/$MM/$dd/$HH', '--event-time-column', 'ts', '--event-time-format', 'Unix',
    '--schema', 'id:id:INT64,ts:ts:INT64,v:v:UTF8']);
  const spillRuns = () => {
    const dir = path.join(data, 'spill');
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).flatMap((d) => fs.readdirSync(path.join(dir, d)));
  };
  const out = path.join(lake, 'spread', 'g');
  const parquet = () => (fs.existsSync(out) ? fs.readdirSync(out, { recursive: true }).filter((f) => f.endsWith('.parquet')) : []);
  const runs = [];
  // Killed once a run is spilled (mid-scan), then once the merge has published files.
  for (const ready of [() => spillRuns().length >= 1, () => parquet().length >= 20]) {
    const child = spawn(bin, ['--data', data, 'delivery', 'run', '--table', 'spread', '--name', 'grouped', '--once',
      '--memory-mb', '48', '--ranges', '2'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    while (!ready() && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await exited;
    if (child.signalCode !== 'SIGKILL') throw new Error(`the run ended before it could be killed (${child.exitCode})`);
    runs.push(spillRuns().length);
  }
  tl(['delivery', 'run', '--table', 'spread', '--name', 'grouped', '--once', '--memory-mb', '48', '--ranges', '2']);
  const got = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids,
      count(DISTINCT ts // 3600)::INTEGER AS hours, count(DISTINCT filename)::INTEGER AS files,
      sum(CASE WHEN v = rpad(id::VARCHAR, 150, 'v') THEN 1 ELSE 0 END)::INTEGER AS exact
    FROM read_parquet('${out}/**/*.parquet', filename=true)`);
  const p = partitions.size;
  assertEq(got, [{ n: n, ids: n, hours: p, files: p, exact: n }], `rows and files (runs left at the kills: ${runs})`);
  const mixed = await query(`SELECT count(*)::INTEGER AS n FROM (SELECT filename FROM read_parquet('${out}/**/*.parquet', filename=true)
    GROUP BY filename HAVING count(DISTINCT ts // 3600) > 1)`);
  assertEq(mixed, [{ n: 0 }], 'files holding more than one hour');
  assertEq(spillRuns(), [], 'spill runs left');
  assertEq(fs.readdirSync(path.join(data, 'checkpoints')), [], 'checkpoints left');
  const hidden = fs.readdirSync(out, { recursive: true }).filter((f) => path.basename(f).startsWith('.'));
  assertEq(hidden, [], 'temporaries left');
  const d = describe('spread', 'grouped');
  assertEq([d.status.rows_delivered, d.status.files_written, d.status.finished], [n, p, true], 'status');
  // A task deleted while its scan has spilled takes its runs with it.
  tl(['delivery', 'create', '--table', 'spread', '--name', 'dropped2', '--type', 'base', ...bucket('spread2'),
    '--prefix', 'g/$yyyy/$MM/$dd/$HH', '--event-time-column', 'ts', '--event-time-format', 'Unix',
    '--schema', 'id:id:INT64,ts:ts:INT64,v:v:UTF8']);
  const child = spawn(bin, ['--data', data, 'delivery', 'run', '--table', 'spread', '--name', 'dropped2', '--once',
    '--memory-mb', '32'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  while (spillRuns().length === 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGKILL');
  await exited;
  tl(['delivery', 'delete', '--table', 'spread', '--name', 'dropped2']);
  assertEq(spillRuns(), [], 'spill runs left by a deleted task');
});

await test('deleting a task whose base scan was interrupted drops its snapshot', async () => {
  tl(['delivery', 'create', '--table', 'big', '--name', 'dropped', '--type', 'base', ...bucket('dropped'), '--prefix', 'd',
      '--file-mb', '1', '--schema', 'id:id:INT64']);
  const child = spawn(bin, ['--data', data, 'delivery', 'run', '--table', 'big', '--name', 'dropped', '--once'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  const checkpoints = path.join(data, 'checkpoints');
  while (!(fs.existsSync(checkpoints) && fs.readdirSync(checkpoints).length > 0) && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 2));
  }
  child.kill('SIGKILL');
  await exited;
  if (child.signalCode !== 'SIGKILL') throw new Error('the run ended before it could be killed');
  tl(['delivery', 'delete', '--table', 'big', '--name', 'dropped']);
  assertEq(fs.readdirSync(checkpoints), [], 'checkpoints left after the delete');
});

await test('kill -9 during incremental delivery, then a re-run delivers every change once', async () => {
  tl(['table', 'create', 'changes', '--pk', 'id:INTEGER']);
  tl(['delivery', 'create', '--table', 'changes', '--name', 'inc-kill', '--type', 'inc', ...bucket('inc'), '--prefix', 'c',
      '--file-mb', '1', '--flush-seconds', '1', '--schema', 'id:id:INT64,v:v:UTF8,x:x:DOUBLE']);
  tl(['import', 'changes', path.join(root, 'big.jsonl'), '--format', 'jsonl']);  // 300k changes
  const child = spawn(bin, ['--data', data, 'delivery', 'run', '--table', 'changes', '--name', 'inc-kill'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  const dir = path.join(lake, 'inc', 'c');
  const published = () => fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.parquet'));
  while (!published() && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGKILL');
  await exited;
  if (child.signalCode !== 'SIGKILL') throw new Error(`the run ended before it could be killed (${child.exitCode})`);
  tl(['delivery', 'run', '--table', 'changes', '--name', 'inc-kill', '--until-synced']);
  const got = await query(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM read_parquet('${dir}/*.parquet')`);
  assertEq(got, [{ n: '300000', ids: '300000' }], 'changes delivered');
  const d = describe('changes', 'inc-kill');
  assertEq([d.status.phase, d.status.rows_delivered, d.status.error.code], ['INCR', 300000, ''], 'status');
});

await test('the seed example: BaseIncTask with rows before and after the task', async () => {
  tl(['table', 'create', 'seed', '--pk', 'PK1:INTEGER', '--pk', 'PK2:STRING']);
  tl(['put', 'seed'], ['{"PK1":1,"PK2":"a","Col1":1.5}', '{"PK1":2,"PK2":"b","Col1":2.5}'].join('\n'));
  tl(['delivery', 'create', '--table', 'seed', '--name', 'seed-task', ...bucket('seed'),
      '--prefix', 'sample/year=$yyyy/month=$MM', '--schema', 'PK1:PK1:INT64,PK2:PK2:UTF8,Col1:Col1:DOUBLE']);
  tl(['delivery', 'run', '--until-synced']);
  tl(['put', 'seed', '{"PK1":3,"PK2":"c","Col1":3.5}']);
  tl(['update', 'seed', '{"PK1":1,"PK2":"a","Col1":9.5}']);
  tl(['delete', 'seed', '{"PK1":2,"PK2":"b"}']);
  tl(['delivery', 'run', '--until-synced']);
  const got = await query(`SELECT PK1, PK2, Col1 FROM read_parquet('${lake}/seed/sample/**/*.parquet', hive_partitioning=true) ORDER BY ALL`);
  assertEq(got, [{ PK1: '1', PK2: 'a', Col1: 1.5 }, { PK1: '1', PK2: 'a', Col1: 9.5 }, { PK1: '2', PK2: 'b', Col1: 2.5 },
                 { PK1: '3', PK2: 'c', Col1: 3.5 }], 'snapshot rows then changes');
  const d = describe('seed', 'seed-task');
  assertEq([d.type, d.status.phase, d.status.deletes_skipped], ['BaseIncTask', 'INCR', 1], 'status');
  const lagMs = Date.now() - d.status.current_sync_timestamp / 1e6;
  if (lagMs < 0 || lagMs > 60000) throw new Error(`current_sync_timestamp ${d.status.current_sync_timestamp} is off by ${lagMs} ms`);
});

fs.rmSync(root, { recursive: true, force: true });
finish();
