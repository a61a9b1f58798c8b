// The C++ client's examples against a running `tablelake serve`: the Node.js SDK creates the
// seed's sampleTable and writes rows, examples/seed_sample creates the seed's BaseIncTask over
// the wire, the server delivers it, DuckDB reads the bucket, and examples/delivery_tasks lists,
// describes and deletes the task.
//   node tests/interop/client_examples.mjs TABLELAKE_BINARY EXAMPLES_DIR
import assert from 'assert/strict';
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createRequire } from 'module';
import { runAgainst, startServe } from './raw_client.mjs';

const require = createRequire(import.meta.url);
const TableStore = require('tablestore');
const { DuckDBInstance } = require('@duckdb/node-api');

const [bin, examples] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tablelake-client-'));
const lake = path.join(dir, 'lake');
fs.mkdirSync(path.join(lake, 'mybucket'), { recursive: true });
const SECRET = 'client-secret-' + Math.random().toString(36).slice(2);
const serve = await startServe(bin, ['--data', path.join(dir, 'data'), '--instance', 'myinst',
  '--access-key-id', 'MYKEY'], { TABLELAKE_ACCESS_KEY_SECRET: SECRET });
const env = {
  ...process.env, TABLELAKE_ENDPOINT: `http://127.0.0.1:${serve.port}`, TABLELAKE_INSTANCE: 'myinst',
  TABLELAKE_ACCESS_KEY_ID: 'MYKEY', TABLELAKE_ACCESS_KEY_SECRET: SECRET,
  OSS_BUCKET: 'mybucket', OSS_ENDPOINT: `file://${lake}`,
};
const run = (name, args = []) => execFileSync(path.join(examples, name), args,
  { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

await runAgainst(serve, dir, async () => {
  const sdk = new TableStore.Client({ accessKeyId: 'MYKEY', secretAccessKey: SECRET,
    endpoint: env.TABLELAKE_ENDPOINT, instancename: 'myinst', maxRetries: 0 });
  await sdk.createTable({
    tableMeta: { tableName: 'sampleTable', primaryKey: [{ name: 'PK1', type: 'INTEGER' }, { name: 'PK2', type: 'STRING' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
  });
  const rows = [];
  for (let i = 0; i < 200; i++) {
    rows.push({ type: 'PUT', condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
      primaryKey: [{ PK1: TableStore.Long.fromNumber(i) }, { PK2: `k${i}` }], attributeColumns: [{ Col1: i + 0.5 }] });
  }
  await sdk.batchWriteRow({ tables: [{ tableName: 'sampleTable', rows }] });

  assert.match(run('seed_sample'), /^create delivery task success [0-9a-f-]{36}\n$/);
  const deadline = Date.now() + 60000;
  let described;
  do {
    assert.ok(Date.now() < deadline, `not delivered: ${described}`);
    await new Promise((r) => setTimeout(r, 200));
    described = run('delivery_tasks', ['describe', 'sampleTable', 'sampletask']);
  } while (!/ rows=200 /.test(described));
  assert.match(described, /^type=BaseIncTask phase=INCR current_sync_timestamp=\d{19} rows=200 files=1 error=none/);
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const [r] = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(Col1)::DOUBLE AS s, max(PK2) AS m
    FROM read_parquet('${lake}/mybucket/sample/**/*.parquet')`)).getRowObjectsJson();
  assert.deepEqual(r, { n: 200, s: 200 * 199 / 2 + 100, m: 'k99' });
  assert.equal(run('delivery_tasks', ['list', 'sampleTable']), 'sampleTable sampletask BaseIncTask\n');
  assert.match(run('delivery_tasks', ['delete', 'sampleTable', 'sampletask']), /^delete delivery task success /);
  assert.equal(run('delivery_tasks', ['list', 'sampleTable']), '');
  // A task that is not there: Tablestore's code, exit 1.
  assert.throws(() => run('delivery_tasks', ['describe', 'sampleTable', 'sampletask']),
    (e) => e.status === 1 && /OTSObjectNotExist: DescribeDeliveryTask: .*sampletask/.test(e.stderr));
  assert.ok(!serve.log().includes(SECRET));
  console.log('client_examples: the seed\'s sample in C++ created its task over the wire; 200 rows delivered and read by DuckDB; list, describe, delete');
});
