// `tablelake serve` driven by the official Node.js SDK (npm `tablestore`), unchanged but for
// its endpoint and keys: tables, rows, conditions, ranges both ways with paging, batches with
// per-row errors, exact values (integers past 2^53 as Long, binary, doubles), and the SDK's
// own errors for bad requests and a wrong secret.
//   node tests/interop/server_sdk.mjs TABLELAKE_BINARY
import assert from 'assert/strict';
import { spawn } from 'child_process';
import { createRequire } from 'module';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { RawClient } from './raw_client.mjs';

const require = createRequire(import.meta.url);
const TableStore = require('tablestore');
const Long = TableStore.Long;

const bin = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tablelake-serve-'));
const SECRET = 'test-secret-' + Math.random().toString(36).slice(2);

// Starts the server on a free port; resolves with its endpoint once it says it listens.
function serve(names = ['--instance', 'inst', '--access-key-id', 'AKID'], data = path.join(dir, 'data-' + names.join('-'))) {
  const child = spawn(bin, ['serve', '--data', data, '--listen', '127.0.0.1:0', ...names],
    { env: { ...process.env, TABLELAKE_ACCESS_KEY_SECRET: SECRET }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      log += d;
      const m = /listening on ([\d.]+):(\d+)/.exec(log);
      if (m) resolve({ child, endpoint: `http://${m[1]}:${m[2]}`, log: () => log });
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${log}`)));
  });
}

function client(endpoint, secret = SECRET) {
  return new TableStore.Client({
    accessKeyId: 'AKID', secretAccessKey: secret, endpoint, instancename: 'inst', maxRetries: 0,
  });
}

const ignore = () => new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
const key = (id, name) => [{ id: Long.fromNumber(id) }, { name }];
const cell = (row, column) => row.attributes.find((a) => a.columnName === column);

// Runs the Node.js example between the README's node-example markers against a server
// started with the names it uses.
async function readmeExample() {
  const readme = fs.readFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'README.md'), 'utf8');
  const block = /<!-- node-example -->\n```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md has no node-example block');
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), '.readme-example.mjs');
  fs.writeFileSync(script, block[1]);
  const example = await serve(['--instance', 'myinst', '--access-key-id', 'MYKEY']);
  try {
    const { execFileSync } = await import('child_process');
    const out = execFileSync('node', [script], {
      encoding: 'utf8', env: { ...process.env, TABLELAKE_ENDPOINT: example.endpoint, TABLELAKE_ACCESS_KEY_SECRET: SECRET },
    });
    assert.equal(out.trim(), 'item=book price=12.5');
  } finally {
    fs.rmSync(script, { force: true });
    example.child.kill('SIGTERM');
    await new Promise((r) => example.child.on('exit', r));
  }
}

// Sixteen SDK clients write (and four read) at once; the server is killed with SIGKILL in the
// middle (once 500 writes are acknowledged) and served again from the same folder: every write
// the SDK saw acknowledged is there.
async function crashScenario() {
  const data = path.join(dir, 'crash');
  let s = await serve(undefined, data);
  const admin = client(s.endpoint);
  await admin.createTable({
    tableMeta: { tableName: 'c', primaryKey: [{ name: 'w', type: 'INTEGER' }, { name: 'i', type: 'INTEGER' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
  });
  const acked = [];
  let running = true;
  const writers = [...Array(16).keys()].map(async (w) => {
    const cw = client(s.endpoint);
    for (let i = 0; running; i++) {
      try {
        await cw.putRow({ tableName: 'c', condition: ignore(), primaryKey: [{ w: Long.fromNumber(w) }, { i: Long.fromNumber(i) }],
          attributeColumns: [{ v: `w${w}-${i}` }] });
        acked.push([w, i]);
      } catch (e) {
        return;  // the server is gone
      }
    }
  });
  const readers = [...Array(4).keys()].map(async () => {
    const cr = client(s.endpoint);
    while (running) {
      try {
        await cr.getRange({ tableName: 'c', direction: TableStore.Direction.FORWARD, maxVersions: 1, limit: 100,
          inclusiveStartPrimaryKey: [{ w: TableStore.INF_MIN }, { i: TableStore.INF_MIN }],
          exclusiveEndPrimaryKey: [{ w: TableStore.INF_MAX }, { i: TableStore.INF_MAX }] });
      } catch (e) {
        return;
      }
    }
  });
  // Kill once enough writes are acknowledged (however busy the machine), writers mid-flight.
  for (const start = Date.now(); acked.length < 500 && Date.now() - start < 30000;) {
    await new Promise((r) => setTimeout(r, 50));
  }
  s.child.kill('SIGKILL');
  running = false;
  await Promise.all([...writers, ...readers]);
  await new Promise((r) => (s.child.exitCode !== null || s.child.signalCode !== null ? r() : s.child.on('exit', r)));
  assert.ok(acked.length > 500, `only ${acked.length} writes were acknowledged before the kill`);
  s = await serve(undefined, data);
  try {
    const cc = client(s.endpoint);
    let found = 0;
    for (let k = 0; k < acked.length; k += 100) {
      const keys = acked.slice(k, k + 100).map(([w, i]) => [{ w: Long.fromNumber(w) }, { i: Long.fromNumber(i) }]);
      const got = await cc.batchGetRow({ tables: [{ tableName: 'c', primaryKey: keys, maxVersions: 1 }] });
      got.tables[0].forEach((r, j) => {
        const [w, i] = acked[k + j];
        assert.ok(r.isOk && r.primaryKey, `acknowledged write w=${w} i=${i} is missing after kill -9`);
        assert.equal(r.attributes[0].columnValue, `w${w}-${i}`);
        found++;
      });
    }
    assert.equal(found, acked.length);
    console.log(`server_sdk: ${acked.length} acknowledged writes from 16 SDK clients all present after kill -9`);
  } finally {
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.on('exit', r));
  }
}

// --config adds an instance (its own folder) and a key (its secret from a variable): each
// instance sees only its tables, an unknown instance is refused, and refusals are logged with
// the key id but never a secret.
async function twoInstances() {
  const config = path.join(dir, 'serve.json');
  fs.writeFileSync(config, JSON.stringify({
    keys: [{ access_key_id: 'K2', secret_env: 'K2_SECRET' }],
    instances: [{ name: 'second', data: path.join(dir, 'second-data') }],
  }));
  process.env.K2_SECRET = 'k2-' + SECRET;
  const s = await serve(['--instance', 'first', '--access-key-id', 'AKID', '--config', config]);
  try {
    const as = (instancename, id, secret) => new TableStore.Client({
      accessKeyId: id, secretAccessKey: secret, endpoint: s.endpoint, instancename, maxRetries: 0,
    });
    const second = as('second', 'K2', 'k2-' + SECRET);
    await second.createTable({
      tableMeta: { tableName: 'only2', primaryKey: [{ name: 'id', type: 'INTEGER' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
    });
    assert.deepEqual((await second.listTable({})).tableNames, ['only2']);
    assert.deepEqual((await as('first', 'K2', 'k2-' + SECRET).listTable({})).tableNames, []);
    assert.deepEqual((await as('second', 'AKID', SECRET).listTable({})).tableNames, ['only2']);
    await assert.rejects(as('third', 'AKID', SECRET).listTable({}),
      (e) => e.code === 403 && /Instance 'third' does not exist/.test(e.message));
    await assert.rejects(as('first', 'K2', 'wrong').listTable({}), (e) => e.code === 403);
    await new Promise((r) => setTimeout(r, 100));
    assert.match(s.log(), /refused ListTable from key 'K2': OTSAuthFailed Signature mismatch/);
    assert.ok(!s.log().includes(SECRET), 'a secret appears in the server log');
  } finally {
    s.child.kill('SIGTERM');
    const code = await new Promise((r) => s.child.on('exit', (c) => r(c)));
    assert.equal(code, 0, 'SIGTERM stops the server cleanly');
  }
}

const server = await serve();
const c = client(server.endpoint);
let failed = false;
// While the checks below run, the same server delivers an IncTask (created over the wire, 1 s
// flush) over a table that a writer keeps writing to: the SDK's checks must pass under that load.
const lake = path.join(dir, 'lake');
fs.mkdirSync(path.join(lake, 'bucket'), { recursive: true });
const wire = new RawClient({ port: Number(new URL(server.endpoint).port), keyId: 'AKID', secret: SECRET, instance: 'inst' });
let loadWritten = 0, stopLoad = false, loadWriter = null;
async function startLoad() {
  await c.createTable({ tableMeta: { tableName: 'load', primaryKey: [{ name: 'id', type: 'INTEGER' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 } });
  await wire.ok('CreateDeliveryTask', 'CreateDeliveryTask', {
    tableName: 'load', taskName: 'loadtask', taskType: 'INC',
    taskConfig: { ossPrefix: 'load/$yyyy/$MM/$dd/$HH/$mm', ossBucket: 'bucket', ossEndpoint: `file://${lake}`,
      schema: [{ columnName: 'id', type: 'INT64' }, { columnName: 'v', type: 'UTF8' }], flush_interval_seconds: 1 },
  });
  loadWriter = (async () => {
    while (!stopLoad) {
      const rows = [];
      for (let i = 0; i < 50; i++, loadWritten++) {
        rows.push({ type: 'PUT', condition: ignore(), primaryKey: [{ id: Long.fromNumber(loadWritten) }], attributeColumns: [{ v: 'x'.repeat(100) }] });
      }
      await c.batchWriteRow({ tables: [{ tableName: 'load', rows }] });
    }
  })();
}
async function finishLoad() {
  stopLoad = true;
  await loadWriter;
  const deadline = Date.now() + 60000;
  let d;
  do {
    assert.ok(Date.now() < deadline, `the task under load delivered ${d?.task_sync_stat.rows_delivered} of ${loadWritten}`);
    await new Promise((r) => setTimeout(r, 200));
    d = await wire.ok('DescribeDeliveryTask', 'DescribeDeliveryTask', { tableName: 'load', taskName: 'loadtask' });
  } while (Number(d.task_sync_stat.rows_delivered) !== loadWritten);
  assert.ok(loadWritten >= 500, `only ${loadWritten} rows written while the checks ran`);
  await wire.ok('DeleteDeliveryTask', 'DeleteDeliveryTask', { tableName: 'load', taskName: 'loadtask' });
  await c.deleteTable({ tableName: 'load' });
}

try {
  await startLoad();
  // Tables.
  await c.createTable({
    tableMeta: { tableName: 't', primaryKey: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: -1, maxVersions: 3 },
  });
  assert.deepEqual((await c.listTable({})).tableNames.sort(), ['load', 't']);  // 'load': the task under load
  const desc = await c.describeTable({ tableName: 't' });
  assert.equal(desc.tableMeta.tableName, 't');
  assert.equal(desc.tableMeta.primaryKey[1].name, 'name');
  assert.equal(desc.tableOptions.maxVersions, 3);
  const upd = await c.updateTable({ tableName: 't', tableOptions: { maxVersions: 2 } });
  assert.equal(upd.tableOptions.maxVersions, 2);
  await assert.rejects(c.createTable({
    tableMeta: { tableName: 't', primaryKey: [{ name: 'id', type: 'INTEGER' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
  }), (e) => e.code === 409 && /OTSObjectAlreadyExist/.test(e.message));

  // Exact values: an integer past 2^53, binary, a double, a boolean, a string.
  const big = Long.fromString('9007199254740993');
  const put = await c.putRow({
    tableName: 't', condition: ignore(), primaryKey: key(1, 'a'),
    attributeColumns: [{ big }, { bin: Buffer.from([0, 255, 7]) }, { dbl: 0.1 }, { flag: true }, { text: '表格' }],
    returnContent: { returnType: TableStore.ReturnType.Primarykey },
  });
  assert.equal(put.row.primaryKey[0].value.toString(), '1');
  const got = await c.getRow({ tableName: 't', primaryKey: key(1, 'a'), maxVersions: 1 });
  assert.equal(cell(got.row, 'big').columnValue.toString(), '9007199254740993');
  assert.deepEqual([...cell(got.row, 'bin').columnValue], [0, 255, 7]);
  assert.equal(cell(got.row, 'dbl').columnValue, 0.1);
  assert.equal(cell(got.row, 'flag').columnValue, true);
  assert.equal(cell(got.row, 'text').columnValue, '表格');
  assert.ok(Number(cell(got.row, 'text').timestamp) > 1.7e12);

  // UpdateRow: put, delete all versions, increment.
  await c.updateRow({
    tableName: 't', condition: ignore(), primaryKey: key(1, 'a'),
    updateOfAttributeColumns: [{ PUT: [{ text: 'new' }] }, { DELETE_ALL: ['flag'] }],
  });
  const after = await c.getRow({ tableName: 't', primaryKey: key(1, 'a'), maxVersions: 1 });
  assert.equal(cell(after.row, 'text').columnValue, 'new');
  assert.equal(cell(after.row, 'flag'), undefined);

  // Conditions: a put that expects no row fails with OTSConditionCheckFail (HTTP 403).
  await assert.rejects(c.putRow({
    tableName: 't', primaryKey: key(1, 'a'), attributeColumns: [{ x: 'y' }],
    condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null),
  }), (e) => e.code === 403 && /OTSConditionCheckFail/.test(e.message));
  const filtered = new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST,
    new TableStore.SingleColumnCondition('text', 'old', TableStore.ComparatorType.EQUAL));
  await assert.rejects(c.updateRow({
    tableName: 't', condition: filtered, primaryKey: key(1, 'a'), updateOfAttributeColumns: [{ PUT: [{ x: 'y' }] }],
  }), (e) => /OTSConditionCheckFail/.test(e.message));

  // A missing row reads as an empty one; DeleteRow removes a row.
  assert.deepEqual((await c.getRow({ tableName: 't', primaryKey: key(99, 'zz'), maxVersions: 1 })).row, {});
  await c.deleteRow({ tableName: 't', condition: ignore(), primaryKey: key(1, 'a') });
  assert.deepEqual((await c.getRow({ tableName: 't', primaryKey: key(1, 'a'), maxVersions: 1 })).row, {});

  // BatchWriteRow with a per-row error (a put into a missing table), then ranges.
  const rows = [];
  for (let i = 0; i < 25; i++) {
    rows.push({ type: 'PUT', condition: ignore(), primaryKey: key(i, `n${i}`), attributeColumns: [{ v: Long.fromNumber(i) }] });
  }
  const written = await c.batchWriteRow({
    tables: [{ tableName: 't', rows }, { tableName: 'missing', rows: [rows[0]] }],
  });
  assert.equal(written.tables.filter((r) => r.isOk).length, 25);
  const bad = written.tables.find((r) => !r.isOk);
  assert.equal(bad.tableName, 'missing');
  assert.equal(bad.errorCode, 'OTSObjectNotExist');

  for (const direction of [TableStore.Direction.FORWARD, TableStore.Direction.BACKWARD]) {
    const forward = direction === TableStore.Direction.FORWARD;
    const min = [{ id: TableStore.INF_MIN }, { name: TableStore.INF_MIN }];
    const max = [{ id: TableStore.INF_MAX }, { name: TableStore.INF_MAX }];
    let start = forward ? min : max;
    const seen = [];
    for (;;) {
      const page = await c.getRange({
        tableName: 't', direction, maxVersions: 1, limit: 7,
        inclusiveStartPrimaryKey: start, exclusiveEndPrimaryKey: forward ? max : min,
      });
      for (const r of page.rows) seen.push(Number(r.primaryKey[0].value.toString()));
      if (!page.nextStartPrimaryKey) break;
      start = page.nextStartPrimaryKey.map((k) => ({ [k.name]: k.value }));
    }
    const want = [...Array(25).keys()];
    assert.deepEqual(seen, forward ? want : want.reverse());
  }

  const batch = await c.batchGetRow({
    tables: [{ tableName: 't', primaryKey: [key(3, 'n3'), key(300, 'x')], maxVersions: 1 }],
  });
  assert.equal(batch.tables[0][0].isOk, true);
  assert.equal(Number(cell(batch.tables[0][0], 'v').columnValue.toString()), 3);
  assert.equal(batch.tables[0][1].isOk, true);
  assert.ok(!batch.tables[0][1].primaryKey);  // not found: no row

  // Bad requests come back as the SDK's own errors, naming the problem.
  await assert.rejects(c.getRow({ tableName: 'nope', primaryKey: key(1, 'a'), maxVersions: 1 }),
    (e) => e.code === 404 && /OTSObjectNotExist/.test(e.message));
  await assert.rejects(c.putRow({ tableName: 't', condition: ignore(), primaryKey: [{ id: 'text' }, { name: 'a' }], attributeColumns: [] }),
    (e) => e.code === 400 && /OTSInvalidPK/.test(e.message) && /'id' is INTEGER/.test(e.message));
  // AUTO_INCREMENT keys come back with RT_PK; INCREMENT returns the new value with AfterModify.
  await c.createTable({
    tableMeta: { tableName: 'auto', primaryKey: [{ name: 'p', type: 'STRING' }, { name: 'n', type: 'INTEGER', option: 'AUTO_INCREMENT' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
  });
  const generated = [];
  for (let i = 0; i < 3; i++) {
    const r = await c.putRow({ tableName: 'auto', condition: ignore(), primaryKey: [{ p: 'x' }, { n: TableStore.PK_AUTO_INCR }],
      attributeColumns: [{ count: Long.fromNumber(10) }], returnContent: { returnType: TableStore.ReturnType.Primarykey } });
    generated.push(BigInt(r.row.primaryKey[1].value.toString()));
  }
  assert.ok(generated[0] < generated[1] && generated[1] < generated[2], `auto-increment values ${generated}`);
  const inc = await c.updateRow({ tableName: 'auto', condition: new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_EXIST, null),
    primaryKey: [{ p: 'x' }, { n: Long.fromString(generated[0].toString()) }],
    updateOfAttributeColumns: [{ INCREMENT: [{ count: Long.fromNumber(5) }] }],
    returnContent: { returnColumns: ['count'], returnType: TableStore.ReturnType.AfterModify } });
  assert.equal(Number(cell(inc.row, 'count').columnValue.toString()), 15);

  // What Tablelake does not have is refused by name, through the SDK's own calls.
  await assert.rejects(c.listSearchIndex({ tableName: 't' }),
    (e) => e.code === 400 && /'ListSearchIndex' is not supported/.test(e.message));
  await assert.rejects(c.computeSplits({ tableName: 't', searchIndexSplitsOptions: { indexName: 'i' } }),
    (e) => e.code === 400 && /'ComputeSplits' is not supported/.test(e.message));
  // The SDK corrupts non-ASCII column names on the wire (it counts characters, not bytes).
  await assert.rejects(c.putRow({ tableName: 't', condition: ignore(), primaryKey: key(5, 'e'), attributeColumns: [{ 列: 'v' }] }),
    (e) => e.code === 400 && /not valid UTF-8/.test(e.message) && /ASCII/.test(e.message));
  await assert.rejects(client(server.endpoint, 'wrong-secret').listTable({}),
    (e) => e.code === 403 && /OTSAuthFailed/.test(e.message) && !e.message.includes(SECRET));

  await finishLoad();
  await c.deleteTable({ tableName: 't' });
  await c.deleteTable({ tableName: 'auto' });
  assert.deepEqual((await c.listTable({})).tableNames, []);

  // The README's example, run as written against an instance and key of its own names.
  await readmeExample();
  await crashScenario();
  await twoInstances();
  assert.ok(!server.log().includes(SECRET), 'the secret appears in the server log');
  console.log(`server_sdk: the Node.js SDK passed every check against tablelake serve while it delivered ${loadWritten} rows written alongside`);
} catch (e) {
  failed = true;
  console.error(e);
  console.error('server log:\n' + server.log());
} finally {
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.on('exit', r));
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
