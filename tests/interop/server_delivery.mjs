// Delivery tasks, credential sets and streams on the wire, against a running `tablelake serve`:
// the Node.js SDK (which has neither delivery nor stream operations) writes the rows, raw
// protobuf signed by code written from the spec (raw_client.mjs) drives the tasks and reads the
// stream while the SDK writes, and DuckDB reads what lands in the bucket. The
// seed's sample: a BaseIncTask with the seed's prefix and ParquetInt64 / ParquetUtf8 /
// ParquetDouble columns, created over the wire and run by the server; its 18-character name
// refused as the 3-16 rule says; every row once after the snapshot, the changes, an update of
// the task and its deletion (which stops it).
//   node tests/interop/server_delivery.mjs TABLELAKE_BINARY
import assert from 'assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createRequire } from 'module';
import { RawClient, runAgainst, startServe } from './raw_client.mjs';

const require = createRequire(import.meta.url);
const TableStore = require('tablestore');
const { DuckDBInstance } = require('@duckdb/node-api');
const Long = TableStore.Long;

const bin = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tablelake-wire-delivery-'));
const lake = path.join(dir, 'lake');
fs.mkdirSync(path.join(lake, 'bucket'), { recursive: true });
const config = path.join(dir, 'serve.json');
fs.writeFileSync(config, JSON.stringify({ keys: [{ access_key_id: 'USER', secret_env: 'USER_SECRET' }] }));
const ADMIN_SECRET = 'admin-secret-' + Math.random().toString(36).slice(2);
const USER_SECRET = 'user-secret-' + Math.random().toString(36).slice(2);
const serve = await startServe(bin, ['--data', path.join(dir, 'data'), '--instance', 'inst',
  '--access-key-id', 'ADMIN', '--config', config],
{ TABLELAKE_ACCESS_KEY_SECRET: ADMIN_SECRET, USER_SECRET });
const admin = new RawClient({ port: serve.port, keyId: 'ADMIN', secret: ADMIN_SECRET, instance: 'inst' });
const user = new RawClient({ port: serve.port, keyId: 'USER', secret: USER_SECRET, instance: 'inst' });
const sdk = new TableStore.Client({
  accessKeyId: 'USER', secretAccessKey: USER_SECRET, endpoint: `http://127.0.0.1:${serve.port}`,
  instancename: 'inst', maxRetries: 0,
});
const db = await (await DuckDBInstance.create(':memory:')).connect();

async function putRows(from, to) {
  for (let i = from; i < to; i += 100) {
    const rows = [];
    for (let j = i; j < Math.min(to, i + 100); j++) {
      rows.push({ type: 'PUT', condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
        primaryKey: [{ PK1: Long.fromNumber(j) }, { PK2: `user-${j}` }], attributeColumns: [{ Col1: j / 4 }] });
    }
    const r = await sdk.batchWriteRow({ tables: [{ tableName: 'sampleTable', rows }] });
    assert.ok(r.tables.every((t) => t.isOk), JSON.stringify(r.tables.find((t) => !t.isOk)));
  }
}
async function describe(name = 'sampletask') {
  return user.ok('DescribeDeliveryTask', 'DescribeDeliveryTask', { tableName: 'sampleTable', taskName: name });
}
// Waits until the task has delivered `rows` rows (the server runs it on its own).
async function delivered(rows) {
  const deadline = Date.now() + 60000;
  for (;;) {
    const d = await describe();
    if (Number(d.task_sync_stat.rows_delivered) === rows) return d;
    assert.ok(Date.now() < deadline, `rows delivered stuck at ${d.task_sync_stat.rows_delivered}, want ${rows}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
async function lakeRows() {
  const glob = path.join(lake, 'bucket', 'sample', '**', '*.parquet');
  return (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT PK1)::INTEGER AS d,
    sum(Col1)::DOUBLE AS s, min(PK2) AS first FROM read_parquet('${glob}')`)).getRowObjectsJson()[0];
}

// The first primary-key cell of a stream record (PlainBuffer, wire spec section 3): an INTEGER.
function firstKey(record) {
  let at = 4;  // the header
  assert.equal(record[at++], 0x01, 'ROW_PK');
  assert.equal(record[at++], 0x03, 'CELL');
  assert.equal(record[at++], 0x04, 'CELL_NAME');
  at += 4 + record.readUInt32LE(at);
  assert.equal(record[at], 0x05, 'CELL_VALUE');
  assert.equal(record[at + 5], 0x00, 'INTEGER');
  return Number(record.readBigInt64LE(at + 6));
}
// Reads the table's stream from its start until `count` records came, polling while writers
// write; returns the first key of each, in the order the stream gave them.
async function readStream(count) {
  const { streams } = await user.ok('ListStream', 'ListStream', { table_name: 'sampleTable' });
  assert.equal(streams.length, 1);
  const { shards } = await user.ok('DescribeStream', 'DescribeStream', { stream_id: streams[0].stream_id });
  let { shard_iterator: it } = await user.ok('GetShardIterator', 'GetShardIterator',
    { stream_id: streams[0].stream_id, shard_id: shards[0].shard_id });
  const keys = [];
  const deadline = Date.now() + 60000;
  while (keys.length < count) {
    assert.ok(Date.now() < deadline, `the stream gave ${keys.length} of ${count} records`);
    const r = await user.ok('GetStreamRecord', 'GetStreamRecord', { shard_iterator: it, limit: 97 });
    for (const rec of r.stream_records) {
      assert.equal(rec.action_type, 1);  // PUT_ROW
      keys.push(firstKey(Buffer.from(rec.record)));
    }
    it = r.next_shard_iterator;
    if (r.stream_records.length === 0) await new Promise((res) => setTimeout(res, 20));
  }
  return keys;
}

const seedTask = (name) => ({
  tableName: 'sampleTable', taskName: name, taskType: 'BASE_INC',
  taskConfig: {
    ossPrefix: 'sample/year=$yyyy/month=$MM', ossBucket: 'bucket', ossEndpoint: `file://${lake}`,
    ossStsRole: '', format: 'Parquet',
    schema: [{ columnName: 'PK1', ossColumnName: 'PK1', type: 'INT64' },
      { columnName: 'PK2', ossColumnName: 'PK2', type: 'UTF8' },
      { columnName: 'Col1', ossColumnName: 'Col1', type: 'DOUBLE' }],
    flush_interval_seconds: 1,
  },
});

await runAgainst(serve, dir, async () => {
  await sdk.createTable({
    tableMeta: { tableName: 'sampleTable', primaryKey: [{ name: 'PK1', type: 'INTEGER' }, { name: 'PK2', type: 'STRING' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
    streamSpecification: { enableStream: true, expirationTime: 24 },
  });
  // The stream read on the wire while the SDK writes: every record once, in commit order.
  const [streamed] = await Promise.all([readStream(1000), putRows(0, 1000)]);
  assert.deepEqual(streamed, [...Array(1000).keys()]);
  await user.refused('GetStreamRecord', RawClient.encode('GetStreamRecord', { shard_iterator: 'bm9wZQ==' }),
    400, 'OTSParameterInvalid', 'shard iterator');

  // Records of a megabyte: a reply stops at 2 MiB of records (a thousand would hold a gigabyte)
  // and says more may follow; read on, every record comes once.
  await sdk.createTable({
    tableMeta: { tableName: 'wideTable', primaryKey: [{ name: 'id', type: 'INTEGER' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
    streamSpecification: { enableStream: true, expirationTime: 24 },
  });
  for (let i = 0; i < 5; i++) {
    await sdk.putRow({ tableName: 'wideTable', condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
      primaryKey: [{ id: Long.fromNumber(i) }], attributeColumns: [{ blob: String(i).repeat(1 << 20) }] });
  }
  {
    const { streams } = await user.ok('ListStream', 'ListStream', { table_name: 'wideTable' });
    const { shards } = await user.ok('DescribeStream', 'DescribeStream', { stream_id: streams[0].stream_id });
    let { shard_iterator: it } = await user.ok('GetShardIterator', 'GetShardIterator',
      { stream_id: streams[0].stream_id, shard_id: shards[0].shard_id });
    const keys = [];
    for (let call = 0; call < 10 && keys.length < 5; call++) {
      const r = await user.ok('GetStreamRecord', 'GetStreamRecord', { shard_iterator: it, limit: 100 });
      if (call === 0) {
        assert.equal(r.stream_records.length, 2, 'a reply stops past 2 MiB of records');
        assert.equal(r.may_more_record, true);
      }
      for (const rec of r.stream_records) keys.push(firstKey(Buffer.from(rec.record)));
      it = r.next_shard_iterator;
    }
    assert.deepEqual(keys, [0, 1, 2, 3, 4]);
  }

  // The seed's name breaks its own 3-16 rule; a valid one is created and run by the server.
  await user.refused('CreateDeliveryTask', RawClient.encode('CreateDeliveryTask', seedTask('sampledeliverytask')),
    400, 'OTSParameterInvalid', '3 to 16 characters');
  await user.ok('CreateDeliveryTask', 'CreateDeliveryTask', seedTask('sampletask'));
  let d = await delivered(1000);
  assert.equal(d.taskType, 2);  // BASE_INC
  assert.equal(d.taskConfig.ossPrefix, 'sample/year=$yyyy/month=$MM');
  assert.deepEqual(d.taskConfig.schema.map((s) => s.type), [1, 2, 3]);  // INT64 UTF8 DOUBLE
  assert.equal(await lakeRows().then((r) => r.n), 1000);
  // The changes follow (1 s flush interval), every row once.
  await putRows(1000, 1500);
  d = await delivered(1500);
  assert.equal(d.task_sync_stat.task_sync_phase, 2);  // INCR
  const ns = BigInt(d.task_sync_stat.current_sync_timestamp.toString());
  assert.ok(ns > BigInt(Date.now() - 120000) * 1000000n && ns <= BigInt(Date.now()) * 1000000n, `${ns} is not now in ns`);
  let rows = await lakeRows();
  assert.equal(rows.n, 1500);
  assert.equal(rows.d, 1500);
  assert.equal(rows.s, (1499 * 1500 / 2) / 4);

  const listed = await user.ok('ListDeliveryTask', 'ListDeliveryTask', { tableName: 'sampleTable' });
  assert.deepEqual(listed.tasks.map((t) => [t.tableName, t.taskName, t.taskType]), [['sampleTable', 'sampletask', 2]]);
  // Redefined while it runs: stopped, updated, run again.
  const update = { table: 'sampleTable', taskName: 'sampletask', taskConfig: { ...d.taskConfig, compression: 'ZSTD' } };
  await user.ok('UpdateDeliveryTask', 'UpdateDeliveryTask', update);
  assert.equal((await describe()).taskConfig.compression, 'ZSTD');
  await putRows(1500, 1600);
  await delivered(1600);
  assert.equal((await lakeRows()).d, 1600);

  // A task whose bucket is missing reports it, and delivers once the bucket appears (the
  // server runs a failing task again after a pause).
  const late = seedTask('latetask');
  late.taskConfig.ossBucket = 'late';
  late.taskConfig.ossPrefix = 'late';
  await user.ok('CreateDeliveryTask', 'CreateDeliveryTask', late);
  const describeLate = () => user.ok('DescribeDeliveryTask', 'DescribeDeliveryTask', { tableName: 'sampleTable', taskName: 'latetask' });
  for (let d2 = await describeLate(); d2.task_sync_stat.error_name !== 'INVALID_OSS_BUCKET'; d2 = await describeLate()) {
    await new Promise((r) => setTimeout(r, 100));
  }
  fs.mkdirSync(path.join(lake, 'late'));
  for (let tries = 0; Number((await describeLate()).task_sync_stat.rows_delivered) !== 1600; tries++) {
    assert.ok(tries < 300, 'the task did not recover once its bucket appeared');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await describeLate()).task_sync_stat.error_name, '');
  await user.ok('DeleteDeliveryTask', 'DeleteDeliveryTask', { tableName: 'sampleTable', taskName: 'latetask' });

  // Errors name the problem, with Tablestore's codes.
  await user.refused('CreateDeliveryTask', RawClient.encode('CreateDeliveryTask', seedTask('sampletask')),
    409, 'OTSObjectAlreadyExist', 'already has a task');
  await user.refused('CreateDeliveryTask', RawClient.encode('CreateDeliveryTask', { ...seedTask('other'), tableName: 'nosuch' }),
    404, 'OTSObjectNotExist', 'nosuch');
  const badPrefix = seedTask('other');
  badPrefix.taskConfig.ossPrefix = 'p/$yy/$MM';
  await user.refused('CreateDeliveryTask', RawClient.encode('CreateDeliveryTask', badPrefix), 400, 'OTSParameterInvalid', "'$yy'");
  await user.refused('DescribeDeliveryTask', RawClient.encode('DescribeDeliveryTask', { tableName: 'sampleTable', taskName: 'nosuch' }),
    404, 'OTSObjectNotExist', 'nosuch');

  // Credential sets: the administrator's key only; listing shows no secret.
  const keys = { role: 'lake-writer', access_key_id: 'LAKEKEY', access_key_secret: 'lake-key-secret', region: 'us-east-1' };
  await user.refused('PutCredentialSet', RawClient.encode('PutCredentialSet', keys), 403, 'OTSAuthFailed', 'administrator');
  await admin.ok('PutCredentialSet', 'PutCredentialSet', keys);
  const sets = await admin.ok('ListCredentialSet', 'ListCredentialSet', {});
  assert.deepEqual(sets.sets.map((s) => [s.role, s.access_key_id]), [['lake-writer', 'LAKEKEY']]);
  await admin.ok('DeleteCredentialSet', 'DeleteCredentialSet', { role: 'lake-writer' });
  assert.equal((await admin.ok('ListCredentialSet', 'ListCredentialSet', {})).sets.length, 0);

  // /metrics: the task's counters and the requests by operation and code.
  const metrics = await fetch(`http://127.0.0.1:${serve.port}/metrics`).then((r) => r.text());
  assert.match(metrics, /^tablelake_delivery_rows_total\{instance="inst",table="sampleTable",task="sampletask"\} 1600$/m);
  assert.match(metrics, /^tablelake_delivery_error\{instance="inst",table="sampleTable",task="sampletask",code=""\} 0$/m);
  assert.match(metrics, /^tablelake_requests_total\{op="CreateDeliveryTask",code="OTSParameterInvalid"\} [1-9]/m);
  assert.match(metrics, /^tablelake_request_seconds_count\{op="BatchWriteRow"\} 1[0-9]$/m);

  // Deleted: the task stops, its files stay, later rows are not delivered.
  await user.ok('DeleteDeliveryTask', 'DeleteDeliveryTask', { tableName: 'sampleTable', taskName: 'sampletask' });
  await user.refused('DescribeDeliveryTask', RawClient.encode('DescribeDeliveryTask', { tableName: 'sampleTable', taskName: 'sampletask' }),
    404, 'OTSObjectNotExist', 'sampletask');
  await putRows(1600, 1700);
  await new Promise((r) => setTimeout(r, 2500));
  rows = await lakeRows();
  assert.equal(rows.n, 1600);
  assert.equal(rows.d, 1600);
  for (const secret of [ADMIN_SECRET, USER_SECRET, 'lake-key-secret']) assert.ok(!serve.log().includes(secret));
  console.log('server_delivery: the stream read while writing, the seed\'s task over the wire, 1,600 rows delivered once, errors and credential sets as specified');
});
