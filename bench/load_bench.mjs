// Bulk load beside DuckDB in the same run (issue 13): the issue's file of JSON lines - five
// columns, {"PK1":int,"PK2":"user-…","Col1":double,"Flag":bool,"Payload":"x"*40}, keys in
// random order - loaded by the whole `tablelake put t < rows.jsonl` command under /usr/bin/time
// (seconds, peak RSS), then the next command on the folder (`table list`: nothing to replay),
// and DuckDB (its default threads) reading the same file into a table of its own with
// read_json (the statement alone is timed). Then a BaseTask over the freshly loaded table
// (`delivery run --once`, whole command) beside DuckDB's COPY of its table to one SNAPPY Parquet
// file (the COPY alone). Prints rows/s and MB/s of input, and beside them the floors
// (load_floor, built beside the binary): what the steps neither can skip take on every core
// with nothing else - parsing the lines plus writing the store's files for the load, scanning
// the store plus writing the Parquet files for the delivery.
//   node bench/load_bench.mjs TABLELAKE_BINARY [ROWS...]   (default 2,000,000)
import { execFileSync, spawnSync } from 'child_process';
import { createRequire } from 'module';
import fs from 'fs';
import os from 'os';
import path from 'path';

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, '..', 'tests', 'interop', 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const bin = process.argv[2];
const sizes = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [2000000];
const root = fs.mkdtempSync(path.join(process.env.BENCH_DIR || os.tmpdir(), 'tablelake-loadbench-'));

// Keys in random order (xorshift-shuffled, seeded: runs compare).
function writeRows(file, rows) {
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  let x = 2463534242;
  for (let i = rows - 1; i > 0; i--) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const fd = fs.openSync(file, 'w');
  const payload = 'x'.repeat(40);
  let chunk = [];
  for (let i = 0; i < rows; i++) {
    const k = order[i];
    chunk.push(`{"PK1":${k % 1000},"PK2":"user-${k}","Col1":${k / 8},"Flag":${k % 2 === 0},"Payload":"${payload}"}`);
    if (chunk.length === 100000) {
      fs.writeSync(fd, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length) fs.writeSync(fd, chunk.join('\n') + '\n');
  fs.closeSync(fd);
}

function timed(args, input) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', bin, ...args],
    { encoding: 'utf8', stdio: [input ? fs.openSync(input, 'r') : 'ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(r.stderr);
  const [secs, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { secs, rssMiB: kb / 1024, summary: r.stderr.trim().split('\n').slice(-2, -1)[0] };
}

// The floors of a load and a delivery of `input`, loaded into `data`: the best of two rounds
// of each step; null when the tool was not built.
function floors(input, data) {
  const tool = path.join(path.dirname(bin), 'load_floor');
  if (!fs.existsSync(tool)) return null;
  let best = null;
  for (let round = 0; round < 2; round++) {
    const out = JSON.parse(execFileSync(tool, [input, data], { encoding: 'utf8' }));
    best = best ? Object.fromEntries(Object.entries(best).map(([k, v]) => [k, Math.min(v, out[k])])) : out;
  }
  return best;
}

const line = (label, secs, rows, mb, note = '') => console.log(
  `${label.padEnd(56)} ${secs.toFixed(2).padStart(7)} s ${Math.round(rows / secs).toString().padStart(9)} rows/s ` +
  `${(mb / secs).toFixed(1).padStart(6)} MB/s${note ? `  ${note}` : ''}`);

try {
  for (const rows of sizes) {
    const dir = path.join(root, String(rows));
    const data = path.join(dir, 'data');
    const input = path.join(dir, 'rows.jsonl');
    fs.mkdirSync(dir, { recursive: true });
    console.error(`load: writing ${rows} rows`);
    writeRows(input, rows);
    const mb = fs.statSync(input).size / 1e6;
    execFileSync(bin, ['--data', data, 'table', 'create', 't', '--pk', 'PK1:INTEGER', '--pk', 'PK2:STRING'],
      { stdio: 'ignore' });
    const loadRun = timed(['--data', data, 'put', 't'], input);
    const reopen = timed(['--data', data, 'table', 'list']);
    // Then the second thing a user does: deliver the freshly loaded table (a BaseTask, SNAPPY).
    const lake = path.join(dir, 'lake');
    fs.mkdirSync(path.join(lake, 'b'), { recursive: true });
    execFileSync(bin, ['--data', data, 'delivery', 'create', '--table', 't', '--name', 'full', '--type', 'base',
      '--bucket', 'b', '--oss-endpoint', `file://${lake}`, '--prefix', 'out',
      '--schema', 'PK1:PK1:INT64,PK2:PK2:UTF8,Col1:Col1:DOUBLE,Flag:Flag:BOOL,Payload:Payload:UTF8'],
    { stdio: 'ignore' });
    const deliver = timed(['--data', data, 'delivery', 'run', '--once', '--table', 't', '--name', 'full']);

    const floor = floors(input, data);

    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const threads = (await db.runAndReadAll(`SELECT current_setting('threads') AS t`)).getRowObjectsJson()[0].t;
    const start = process.hrtime.bigint();
    await db.run(`CREATE TABLE t AS SELECT * FROM read_json('${input}')`);
    const duck = Number(process.hrtime.bigint() - start) / 1e9;
    const copyStart = process.hrtime.bigint();
    await db.run(`COPY t TO '${path.join(dir, 'duck.parquet')}' (FORMAT parquet, COMPRESSION snappy)`);
    const duckCopy = Number(process.hrtime.bigint() - copyStart) / 1e9;

    console.log(`\n${rows} rows, ${mb.toFixed(0)} MB of JSON lines, keys in random order`);
    line('Tablelake `put t < rows.jsonl` (whole command)', loadRun.secs, rows, mb,
      `peak RSS ${loadRun.rssMiB.toFixed(0)} MiB; its summary: ${loadRun.summary}`);
    console.log(`${'Tablelake next command (table list)'.padEnd(56)} ${reopen.secs.toFixed(2).padStart(7)} s` +
      '  target: under 0.1 s');
    line(`DuckDB read_json into its table (${threads} threads)`, duck, rows, mb,
      `Tablelake takes ${(loadRun.secs / duck).toFixed(1)}x its time (targets: at most 1x, and 1,000,000 rows/s)`);
    line('Tablelake `delivery run --once` of it (whole command)', deliver.secs, rows, mb,
      `peak RSS ${deliver.rssMiB.toFixed(0)} MiB; its summary: ${deliver.summary}`);
    line(`DuckDB COPY of its table TO parquet (${threads} threads, SNAPPY)`, duckCopy, rows, mb,
      `Tablelake takes ${(deliver.secs / duckCopy).toFixed(1)}x its time (target: at most 1x)`);
    if (floor) {
      const load = floor.parse_seconds + floor.files_seconds;
      const delivery = floor.scan_seconds + floor.parquet_seconds;
      line('Floor of the load: parse + store files, nothing else', load, rows, mb,
        `simdjson ${floor.parse_seconds.toFixed(2)} s + SstFileWriter ${floor.files_seconds.toFixed(2)} s; ` +
        `DuckDB's read_json takes ${(duck / load).toFixed(2)}x it, Tablelake ${(loadRun.secs / load).toFixed(2)}x`);
      line('Floor of the delivery: scan + Parquet files, nothing else', delivery, rows, mb,
        `RocksDB ${floor.scan_seconds.toFixed(2)} s + Parquet writer ${floor.parquet_seconds.toFixed(2)} s; ` +
        `DuckDB's COPY takes ${(duckCopy / delivery).toFixed(2)}x it, Tablelake ${(deliver.secs / delivery).toFixed(2)}x`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
