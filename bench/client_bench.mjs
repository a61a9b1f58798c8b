// The C++ client (include/tablelake/client.h) and the official Node.js SDK against the same
// `tablelake serve`, in the same run: PutRow over 16 concurrent requests, BatchWriteRow of 200
// rows over 16, and a GetRange scan of the whole table, each on tables of their own (PK1 INTEGER,
// Col1 STRING 40 bytes, Col2 INTEGER). Prints rows/s for each and their ratio. The load
// generators share the machine's cores with the server.
//   node bench/client_bench.mjs TABLELAKE_BINARY CLIENT_BENCH_BINARY [ROWS]   (default 50,000)
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createRequire } from 'module';
import { startServe } from '../tests/interop/raw_client.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, '..', 'tests', 'interop', 'package.json'));
const TableStore = require('tablestore');
const Long = TableStore.Long;

const [bin, cppBench] = process.argv.slice(2);
const rows = Number(process.argv[4] ?? 50000);
const CONCURRENCY = 16;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tablelake-client-bench-'));
const SECRET = 'bench-secret-' + Math.random().toString(36).slice(2);
const serve = await startServe(bin, ['--data', path.join(dir, 'data'), '--instance', 'bench',
  '--access-key-id', 'BENCH'], { TABLELAKE_ACCESS_KEY_SECRET: SECRET });
const endpoint = `http://127.0.0.1:${serve.port}`;
const sdk = new TableStore.Client({ accessKeyId: 'BENCH', secretAccessKey: SECRET, endpoint,
  instancename: 'bench', maxRetries: 0, httpOptions: { maxSockets: CONCURRENCY } });
const ignore = () => new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
const row = (id) => ({ primaryKey: [{ PK1: Long.fromNumber(id) }],
  attributeColumns: [{ Col1: String.fromCharCode(97 + (id % 26)).repeat(40) }, { Col2: Long.fromNumber(id * 7) }] });

async function createTable(name) {
  await sdk.createTable({ tableMeta: { tableName: name, primaryKey: [{ name: 'PK1', type: 'INTEGER' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 } });
}
// Runs `work(first, last)` over [0, rows) in steps, CONCURRENCY at a time; seconds taken.
async function parallel(step, work) {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all([...Array(CONCURRENCY)].map(async () => {
    for (let first; (first = next, next += step, first) < rows;) await work(first, Math.min(rows, first + step));
  }));
  return Number(process.hrtime.bigint() - start) / 1e9;
}
const node = {
  async put(table) {
    return parallel(1, (id) => sdk.putRow({ tableName: table, condition: ignore(), ...row(id) }));
  },
  async batch(table) {
    return parallel(200, async (first, last) => {
      const batch = [];
      for (let id = first; id < last; id++) batch.push({ type: 'PUT', condition: ignore(), ...row(id) });
      const r = await sdk.batchWriteRow({ tables: [{ tableName: table, rows: batch }] });
      if (!r.tables.every((t) => t.isOk)) throw new Error('a row failed');
    });
  },
  async range(table) {
    let start = [{ PK1: TableStore.INF_MIN }], n = 0;
    const t0 = process.hrtime.bigint();
    while (start) {
      const r = await sdk.getRange({ tableName: table, direction: TableStore.Direction.FORWARD,
        inclusiveStartPrimaryKey: start, exclusiveEndPrimaryKey: [{ PK1: TableStore.INF_MAX }], maxVersions: 1 });
      n += r.rows.length;
      start = r.nextStartPrimaryKey ? r.nextStartPrimaryKey.map((c) => ({ [c.name]: c.value })) : null;
    }
    if (n !== rows) throw new Error(`the scan read ${n} rows, not ${rows}`);
    return Number(process.hrtime.bigint() - t0) / 1e9;
  },
};
function cpp(op, table) {
  const out = execFileSync(cppBench, [op, table, String(rows), String(op === 'range' ? 1 : CONCURRENCY)], {
    encoding: 'utf8', env: { ...process.env, TABLELAKE_ENDPOINT: endpoint, TABLELAKE_INSTANCE: 'bench',
      TABLELAKE_ACCESS_KEY_ID: 'BENCH', TABLELAKE_ACCESS_KEY_SECRET: SECRET } });
  const r = JSON.parse(out);
  if (r.rows !== rows) throw new Error(`C++ ${op}: ${r.rows} rows, not ${rows}`);
  return r.seconds;
}

try {
  for (const t of ['cpp_put', 'node_put', 'cpp_batch', 'node_batch']) await createTable(t);
  console.log(`${rows} rows per operation; ${CONCURRENCY} concurrent requests for writes, one scanner for ranges`);
  console.log(`${'operation'.padEnd(34)} ${'C++ client'.padStart(14)} ${'Node.js SDK'.padStart(14)}   C++ / Node`);
  const ops = [['PutRow', 'put', 'cpp_put', 'node_put'], ['BatchWriteRow (200 rows)', 'batch', 'cpp_batch', 'node_batch'],
    ['GetRange (whole table)', 'range', 'cpp_batch', 'node_batch']];
  for (const [label, op, cppTable, nodeTable] of ops) {
    const c = rows / cpp(op, cppTable), n = rows / await node[op](nodeTable);
    console.log(`${label.padEnd(34)} ${Math.round(c).toString().padStart(9)} rows/s ${Math.round(n).toString().padStart(9)} rows/s   ${(c / n).toFixed(2)}x`);
  }
} finally {
  await serve.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
