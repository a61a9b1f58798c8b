// Delivery into many partitions, beside DuckDB's COPY ... PARTITION_BY of the same rows in the
// same run (issue 10's targets):
//   A. ROWS_A rows (default 400,000) over 2 years of hourly partitions (17,520), in an order
//      unrelated to the key;
//   B. ROWS_B rows (default 10,000,000) over 30 days of hourly partitions (720).
// For each: the same rows delivered by a BaseTask into one partition (a prefix without time
// variables) and into the hourly partitions, each the whole `tablelake delivery run --once`
// command under /usr/bin/time (seconds, peak RSS), and DuckDB (its default threads) copying the
// same rows from its own table to hourly partitions (the COPY alone is timed); each the best of
// two rounds, the two deliveries taking turns. Prints rows/s,
// MB/s of Parquet written, files and bytes.
// Beside them, the file system's floor (partition_files_floor, built beside the binary): the
// same number of hourly folders, each given one file of the hourly run's average size the way an
// atomic publisher must (temporary name, write, rename), on every core, and nothing else.
//   W. ROWS_W rows (default 400) of 1.9 MB string values (a 760 MB table) delivered with ZSTD into
//      one partition: the peak RSS against the memory budget (256 MiB) + 64 MiB, beside DuckDB
//      copying the same rows to one ZSTD Parquet file.
//   [BENCH_DIR=/dev/shm] node bench/partitions_bench.mjs TABLELAKE_BINARY [ROWS_A [ROWS_B [ROWS_W]]]
import { execFileSync, spawnSync } from 'child_process';
import { createRequire } from 'module';
import fs from 'fs';
import os from 'os';
import path from 'path';

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, '..', 'tests', 'interop', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const bin = process.argv[2];
const scenarios = [
  { name: 'A', rows: Number(process.argv[3] ?? 400000), hours: 2 * 365 * 24 },
  { name: 'B', rows: Number(process.argv[4] ?? 10000000), hours: 30 * 24 },
].filter((s) => s.rows > 0);  // 0 skips a scenario
const wideRows = Number(process.argv[5] ?? 400);
// BENCH_DIR picks the file system (the data folders and buckets live there): creating
// thousands of partition folders and files costs what that file system's metadata costs.
const root = fs.mkdtempSync(path.join(process.env.BENCH_DIR || os.tmpdir(), 'tablelake-partbench-'));
const START = 472222 * 3600;  // a fixed hour (2023-11-14), so that runs compare

function tl(data, args) {
  return execFileSync(bin, ['--data', data, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
function timed(data, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', bin, '--data', data, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const [secs, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { secs, rssMiB: kb / 1024 };
}
function parquetFiles(dir) {
  let bytes = 0, files = 0;
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    if (!String(f).endsWith('.parquet')) continue;
    files++;
    bytes += fs.statSync(path.join(dir, String(f))).size;
  }
  return { files, bytes };
}
// Rows in key order whose event times fall in pseudo-random hours (mulberry32, seeded, so runs
// compare): partitions interleave. Returns how many partitions the rows use.
function writeRows(file, rows, hours) {
  const fd = fs.openSync(file, 'w');
  let seed = 1, chunk = [];
  const random = () => {
    seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const used = new Set();
  for (let i = 0; i < rows; i++) {
    const hour = Math.floor(random() * hours);
    used.add(hour);
    const ts = START + hour * 3600 + (i % 3600);
    chunk.push(`{"id":${i},"ts":${ts},"user":"user-${i % 100000}","amount":${(i % 100000) / 100}}`);
    if (chunk.length === 100000) {
      fs.writeSync(fd, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length) fs.writeSync(fd, chunk.join('\n') + '\n');
  fs.closeSync(fd);
  return used.size;
}

// What making `files` hourly folders with a file of `bytes` each costs this file system alone:
// the best of two rounds, each into new folders; null when the tool was not built.
function fileSystemFloor(dir, files, bytes) {
  const tool = path.join(path.dirname(bin), 'partition_files_floor');
  if (!fs.existsSync(tool)) return null;
  let best = null;
  for (let round = 0; round < 2; round++) {
    const out = JSON.parse(execFileSync(tool, [path.join(dir, `floor${round}`), String(files), String(bytes)],
      { encoding: 'utf8' }));
    if (!best || out.seconds < best.secs) best = { secs: out.seconds, threads: out.threads };
  }
  return best;
}

const row = (label, r, rows, note = '') => console.log(
  `${label.padEnd(58)} ${r.secs.toFixed(2).padStart(7)} s ${Math.round(rows / r.secs).toString().padStart(9)} rows/s ` +
  `${(r.bytes / 1e6 / r.secs).toFixed(1).padStart(6)} MB/s ${String(r.files).padStart(6)} files ` +
  `${(r.bytes / 1e6).toFixed(1).padStart(7)} MB${r.rssMiB ? `  peak RSS ${r.rssMiB.toFixed(0)} MiB` : ''}${note ? `  ${note}` : ''}`);

// Rows of `bytes` hex characters drawn from xorshift32 (seeded: runs compare): about half of
// their size is left by compression, as with ids and hashes, not a run of one letter.
function writeWideRows(file, rows, bytes) {
  const fd = fs.openSync(file, 'w');
  const words = new Uint32Array(Math.ceil(bytes / 8));
  let x = 2463534242;
  for (let i = 0; i < rows; i++) {
    for (let w = 0; w < words.length; w++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      words[w] = x >>> 0;
    }
    const hex = Buffer.from(words.buffer).toString('hex').slice(0, bytes);
    fs.writeSync(fd, `{"id":${i},"blob":"${hex}"}\n`);
  }
  fs.closeSync(fd);
}

async function wideScenario(rows) {
  const bytes = 1900000;
  const dir = path.join(root, 'W');
  const data = path.join(dir, 'data');
  const lake = path.join(dir, 'lake');
  fs.mkdirSync(path.join(lake, 'b'), { recursive: true });
  const input = path.join(dir, 'rows.jsonl');
  console.error(`scenario W: writing and loading ${rows} rows of ${bytes} bytes`);
  writeWideRows(input, rows, bytes);
  tl(data, ['table', 'create', 't', '--pk', 'id:INTEGER']);
  tl(data, ['import', 't', input, '--format', 'jsonl']);
  tl(data, ['delivery', 'create', '--table', 't', '--name', 'wide', '--type', 'base', '--bucket', 'b',
    '--oss-endpoint', `file://${lake}`, '--prefix', 'wide', '--schema', 'id:id:INT64,blob:blob:UTF8',
    '--compression', 'ZSTD']);
  const ours = { ...timed(data, ['delivery', 'run', '--once']), ...parquetFiles(path.join(lake, 'b', 'wide')) };
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`CREATE TABLE t AS SELECT * FROM read_json('${input}',
    columns={id: 'BIGINT', blob: 'VARCHAR'}, maximum_object_size=${2 * bytes + 100})`);
  const threads = (await db.runAndReadAll(`SELECT current_setting('threads') AS t`)).getRowObjectsJson()[0].t;
  const out = path.join(dir, 'duck.parquet');
  const start = process.hrtime.bigint();
  await db.run(`COPY t TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
  const duck = { secs: Number(process.hrtime.bigint() - start) / 1e9, files: 1, bytes: fs.statSync(out).size };
  console.log(`\nscenario W: ${rows} rows of ${(bytes / 1e6).toFixed(1)} MB strings ` +
    `(${(rows * bytes / 1e6).toFixed(0)} MB), ZSTD, one partition`);
  row('Tablelake BaseTask (whole command)', ours, rows,
    `target: peak RSS under ${256 + 64} MiB (the default budget + 64 MiB)`);
  row(`DuckDB COPY (${threads} threads, the COPY alone)`, duck, rows,
    `Tablelake takes ${(ours.secs / duck.secs).toFixed(2)}x its time`);
  fs.rmSync(dir, { recursive: true, force: true });
}

try {
  for (const s of scenarios) {
    const dir = path.join(root, s.name);
    const data = path.join(dir, 'data');
    const lake = path.join(dir, 'lake');
    const input = path.join(dir, 'rows.jsonl');
    fs.mkdirSync(dir, { recursive: true });
    console.error(`scenario ${s.name}: writing and loading ${s.rows} rows over ${s.hours} hours`);
    const partitions = writeRows(input, s.rows, s.hours);
    tl(data, ['table', 'create', 't', '--pk', 'id:INTEGER']);
    tl(data, ['import', 't', input, '--format', 'jsonl']);
    const schema = 'id:id:INT64,ts:ts:INT64,user:user:UTF8,amount:amount:DOUBLE';
    // Every round writes into folders of its own, all removed at the end of the scenario: on ext4
    // without a journal (this machine's /tmp) an inode freed within the last 60-360 s is skipped,
    // block by block, when the next file or folder is made, so that removing a round's 17,520
    // files before the next round made that round pay for the cleanup (seconds of system time).
    // A task delivered from scratch: created, run (timed), its files counted, then deleted.
    const deliver = (name, bucket, prefix, more = []) => {
      fs.mkdirSync(path.join(lake, bucket), { recursive: true });
      tl(data, ['delivery', 'create', '--table', 't', '--name', name, '--type', 'base', '--bucket', bucket,
        '--oss-endpoint', `file://${lake}`, '--prefix', prefix, '--schema', schema, ...more]);
      const r = { ...timed(data, ['delivery', 'run', '--once', '--table', 't', '--name', name]),
        ...parquetFiles(path.join(lake, bucket)) };
      tl(data, ['delivery', 'delete', '--table', 't', '--name', name]);
      return r;
    };
    // The two deliveries take turns for two rounds (so that both see the same state of the machine
    // and of the file system's write-back); each reports its best round.
    const best = (a, b) => (a && a.secs <= b.secs ? a : b);
    let single, hourly;
    for (let round = 0; round < 2; round++) {
      single = best(single, deliver('single', `one${round}`, 'one'));
      hourly = best(hourly, deliver('hourly', `hourly${round}`, 'hourly/year=$yyyy/month=$MM/day=$dd/hour=$HH',
        ['--event-time-column', 'ts', '--event-time-format', 'Unix']));
    }

    const db = await (await DuckDBInstance.create(':memory:')).connect();
    await db.run(`CREATE TABLE t AS SELECT id, ts, "user", amount, year(to_timestamp(ts)) AS yyyy,
      month(to_timestamp(ts)) AS mm, day(to_timestamp(ts)) AS dd, hour(to_timestamp(ts)) AS hh
      FROM read_json('${input}', columns={id: 'BIGINT', ts: 'BIGINT', "user": 'VARCHAR', amount: 'DOUBLE'})`);
    const threads = (await db.runAndReadAll(`SELECT current_setting('threads') AS t`)).getRowObjectsJson()[0].t;
    let duck;
    for (let round = 0; round < 2; round++) {  // its best of two rounds too, each into a new folder
      const out = path.join(dir, `duck${round}`);
      const start = process.hrtime.bigint();
      await db.run(`COPY t TO '${out}' (FORMAT parquet, PARTITION_BY (yyyy, mm, dd, hh))`);
      duck = best(duck, { secs: Number(process.hrtime.bigint() - start) / 1e9, ...parquetFiles(out) });
    }

    const floor = fileSystemFloor(dir, hourly.files, Math.round(hourly.bytes / hourly.files));

    console.log(`\nscenario ${s.name}: ${s.rows} rows over ${partitions} hourly partitions`);
    row('Tablelake BaseTask, one partition (whole command)', single, s.rows);
    row('Tablelake BaseTask, hourly partitions (whole command)', hourly, s.rows,
      `${(hourly.secs / single.secs).toFixed(2)}x the one-partition time, ` +
      `${(hourly.files / partitions).toFixed(2)} files per partition` +
      (floor ? `, ${(hourly.secs / floor.secs).toFixed(2)}x the file system's floor` : ''));
    row(`DuckDB COPY ... PARTITION_BY (${threads} threads, the COPY alone)`, duck, s.rows,
      `Tablelake takes ${(hourly.secs / duck.secs).toFixed(2)}x its time`);
    if (floor) {
      console.log(`${`File system floor: ${hourly.files} folders and files, ${floor.threads} threads`.padEnd(58)} ` +
        `${floor.secs.toFixed(2).padStart(7)} s  (mkdir, create, write, rename; no rows: ` +
        `${(floor.secs / single.secs).toFixed(2)}x the one-partition delivery)`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (wideRows > 0) await wideScenario(wideRows);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
