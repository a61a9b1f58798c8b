// The `tablelake` CLI as a client (--endpoint, --instance; the key from the environment) against
// a running `tablelake serve`: every table, row, stream and delivery command through the wire,
// what it wrote read back by the official Node.js SDK, a delivery task created through the CLI
// delivered by the server and read by DuckDB, the errors a user meets (wrong key, no key, a
// bucket endpoint given as the server's, `delivery run`, a refused row in a load), and an
// embedded write on the served folder pointing at --endpoint.
//   node tests/interop/cli_endpoint.mjs TABLELAKE_BINARY
import assert from 'assert/strict';
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { createRequire } from 'module';
import { runAgainst, startServe } from './raw_client.mjs';
import { test, assertEq, summarize } from './harness.mjs';

const require = createRequire(import.meta.url);
const TableStore = require('tablestore');
const { DuckDBInstance } = require('@duckdb/node-api');

const bin = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tablelake-cli-endpoint-'));
const data = path.join(dir, 'data');
const lake = path.join(dir, 'lake');
fs.mkdirSync(path.join(lake, 'bkt'), { recursive: true });
const SECRET = 'cli-secret-' + Math.random().toString(36).slice(2);
const serve = await startServe(bin, ['--data', data, '--instance', 'inst', '--access-key-id', 'CLIKEY'],
  { TABLELAKE_ACCESS_KEY_SECRET: SECRET });
const endpoint = `http://127.0.0.1:${serve.port}`;
const keys = { TABLELAKE_ACCESS_KEY_ID: 'CLIKEY', TABLELAKE_ACCESS_KEY_SECRET: SECRET };

// Runs the CLI; returns { code, out, err }.
function cli(args, { input, env = keys, remote = true } = {}) {
  const where = remote ? ['--endpoint', endpoint, '--instance', 'inst'] : ['--data', data];
  const r = spawnSync(bin, [...where, ...args], {
    input, encoding: 'utf8', maxBuffer: 1 << 28,
    env: { ...process.env, TABLELAKE_ACCESS_KEY_ID: '', TABLELAKE_ACCESS_KEY_SECRET: '', ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function ok(args, opts) {
  const r = cli(args, opts);
  assert.equal(r.code, 0, `tablelake ${args.join(' ')}: ${r.err}`);
  return r;
}
function fails(args, pattern, opts) {
  const r = cli(args, opts);
  assert.equal(r.code, 1, `tablelake ${args.join(' ')} should fail: ${r.out}${r.err}`);
  assert.match(r.err, pattern);
  return r;
}
const lines = (text) => text.trim().split('\n').filter((l) => l).map((l) => JSON.parse(l));

await runAgainst(serve, dir, async () => {
  const sdk = new TableStore.Client({ accessKeyId: 'CLIKEY', secretAccessKey: SECRET, endpoint,
    instancename: 'inst', maxRetries: 0 });

  await test('tables: create, list, describe, update', async () => {
    assert.match(ok(['table', 'create', 'ev', '--pk', 'id:INTEGER', '--pk', 'who:STRING', '--stream-hours', '24']).err,
      new RegExp(`created table 'ev' in instance 'inst' at ${endpoint}`));
    ok(['table', 'create', 'seq', '--pk', 'part:STRING', '--pk', 'n:INTEGER:AUTO_INCREMENT']);
    assertEq(ok(['table', 'list']).out, 'ev\nseq\n', 'table list');
    const d = JSON.parse(ok(['table', 'describe', 'ev']).out);
    assertEq([d.primary_key, d.stream.enabled], [[{ name: 'id', type: 'INTEGER' }, { name: 'who', type: 'STRING' }], true], 'describe');
    ok(['table', 'update', 'ev', '--max-versions', '3']);
    assertEq(JSON.parse(ok(['table', 'describe', 'ev']).out).table_options.max_versions, 3, 'updated max_versions');
    fails(['table', 'create', 'ev', '--pk', 'id:INTEGER'], /^error: OTSObjectAlreadyExist: .*ev/);
  });

  await test('rows: put, load from stdin, get, range with filters, update, delete', async () => {
    ok(['put', 'ev', '{"id":1,"who":"ann","score":1.5,"note":"first"}']);
    // 3,000 rows, the last 1,000 rewriting keys of the first: the last row of a key wins.
    const input = [];
    for (let i = 0; i < 3000; i++) input.push(JSON.stringify({ id: 100 + (i % 2000), who: 'bulk', score: i }));
    assert.match(ok(['put', 'ev'], { input: input.join('\n') + '\n' }).err, /3000 rows/);
    assertEq(lines(ok(['get', 'ev', '{"id":100,"who":"bulk"}']).out), [{ id: 100, who: 'bulk', score: 2000 }], 'the later row wins');
    const sdkRange = await sdk.getRange({ tableName: 'ev', direction: TableStore.Direction.FORWARD,
      inclusiveStartPrimaryKey: [{ id: TableStore.INF_MIN }, { who: TableStore.INF_MIN }],
      exclusiveEndPrimaryKey: [{ id: TableStore.INF_MAX }, { who: TableStore.INF_MAX }], limit: 5000 });
    assertEq(sdkRange.rows.length, 2001, 'rows the Node.js SDK reads back');
    assertEq(lines(ok(['range', 'ev', '--if', 'score >= 2998', '--columns', 'score']).out),
      [{ id: 1098, who: 'bulk', score: 2998 }, { id: 1099, who: 'bulk', score: 2999 }], 'range --if');
    assertEq(lines(ok(['range', 'ev', '--backward', '--limit', '2']).out).map((r) => r.id), [2099, 2098], 'backward');
    assertEq(lines(ok(['range', 'ev', '--start', '{"id":1500}', '--end', '{"id":1503}']).out).length, 3, 'partial bounds');
    ok(['update', 'ev', '{"id":1,"who":"ann","score":2}', '--increment', 'hits=5', '--delete', 'note', '--if', 'score = 1.5']);
    assertEq(lines(ok(['get', 'ev', '{"id":1,"who":"ann"}']).out), [{ id: 1, who: 'ann', hits: 5, score: 2 }], 'updated row');
    fails(['update', 'ev', '{"id":1,"who":"ann","score":3}', '--if', 'score = 1.5'], /^error: OTSConditionCheckFail: /);
    fails(['put', 'ev', '{"id":1,"who":"ann"}', '--expect', 'not-exist'], /^error: OTSConditionCheckFail: .*already exists/);
    ok(['delete', 'ev', '{"id":1,"who":"ann"}', '--expect', 'exist']);
    assertEq(ok(['get', 'ev', '{"id":1,"who":"ann"}']).out, '', 'deleted');
    assertEq(lines(ok(['put', 'seq', '{"part":"a","v":1}']).out).map((r) => typeof r.n), ['number'], 'AUTO_INCREMENT key shown');
  });

  await test('stream read: every record once, in order', async () => {
    const records = lines(ok(['stream', 'read', 'ev']).out);
    // The load sends only the last row of each key: 2,000 puts.
    assertEq(records.length, 1 + 2000 + 1 + 1, 'records: put, load, update, delete');
    for (let i = 1; i < records.length; i++) assert.ok(records[i].seq > records[i - 1].seq, 'sequences increase');
    assertEq([records[0].op, records.at(-2).op, records.at(-1).op], ['PUT', 'UPDATE', 'DELETE'], 'ops');
    const from = records[10].seq;
    assertEq(lines(ok(['stream', 'read', 'ev', '--from', String(from), '--limit', '2']).out).map((r) => r.seq),
      [from, records[11].seq], '--from and --limit');
  });

  await test('a load is checked before anything is sent; a refused row says what was written', async () => {
    const bad = ['{"id":5000,"who":"x"}', '{"id":5001,"who":7}'].join('\n');
    fails(['put', 'ev'], /stdin line 2: .*nothing was written/, { input: bad });
    assertEq(ok(['get', 'ev', '{"id":5000,"who":"x"}']).out, '', 'nothing written');
    const big = [JSON.stringify({ id: 6000, who: 'ok' }), JSON.stringify({ id: 6001, who: 'w'.repeat(2000) })].join('\n');
    fails(['put', 'ev'], /row 2 of the load was refused: .*; 1 of 2 rows were written \(over the wire a load is not atomic\)$/m, { input: big });
    const csv = 'id,who,score\n7000,csv,1\n7001,csv,2\n';
    fs.writeFileSync(path.join(dir, 'rows.csv'), csv);
    ok(['import', 'ev', path.join(dir, 'rows.csv'), '--format', 'csv']);
    assertEq(lines(ok(['range', 'ev', '--start', '{"id":7000}']).out).length, 2, 'imported CSV');
  });

  await test('rows of a megabyte: a load sends them in requests the server takes; a stream read pages them', async () => {
    ok(['table', 'create', 'wide', '--pk', 'id:INTEGER', '--stream-hours', '24']);
    const rows = [];
    for (let i = 0; i < 8; i++) rows.push(JSON.stringify({ id: i, blob: String(i).repeat(1500000) }));
    assert.match(ok(['put', 'wide'], { input: rows.join('\n') + '\n' }).err, /8 rows/);
    assertEq(lines(ok(['range', 'wide', '--columns', 'id']).out).map((r) => r.id), [0, 1, 2, 3, 4, 5, 6, 7], 'every row');
    // Requests go out in parallel: the stream holds them in the order the server took them.
    const records = lines(ok(['stream', 'read', 'wide']).out);
    assertEq(records.map((r) => r.primary_key.id).sort(), [0, 1, 2, 3, 4, 5, 6, 7], 'every record once');
    for (const r of records) assertEq(r.columns[0].value, String(r.primary_key.id).repeat(1500000), 'values whole');
    ok(['table', 'drop', 'wide']);
  });

  await test('a load larger than the client holds is sent as it goes; a bad line then says what was written', async () => {
    ok(['table', 'create', 'big', '--pk', 'id:INTEGER']);
    const input = [];
    for (let i = 0; i < 150000; i++) input.push(JSON.stringify({ id: i, pad: 'p'.repeat(100) }));
    input.push('{"id":"bad"}');
    const r = fails(['put', 'big'], /stdin line 150001: .*; \d+ of 150000 rows were written \(over the wire a load is not atomic\)$/m,
      { input: input.join('\n') + '\n' });
    const written = Number(r.err.match(/; (\d+) of 150000/)[1]);
    assert.ok(written > 0, 'rows went out before the end of the input');
    assertEq(lines(ok(['range', 'big', '--columns', 'id']).out).length, written, 'the rows said written');
    ok(['table', 'drop', 'big']);
  });

  await test('delivery: create, describe, files, update, delete through the server', async () => {
    assert.match(ok(['delivery', 'create', '--table', 'ev', '--name', 'evlake', '--type', 'base', '--bucket', 'bkt',
      '--oss-endpoint', `file://${lake}`, '--prefix', 'ev/$yyyy', '--schema', 'id:id:INT64,who:who:UTF8,score:score:DOUBLE']).err,
    /the server runs it/);
    let d;
    const deadline = Date.now() + 60000;
    do {
      assert.ok(Date.now() < deadline, `not delivered: ${JSON.stringify(d?.status)}`);
      await new Promise((r) => setTimeout(r, 200));
      d = JSON.parse(ok(['delivery', 'describe', '--table', 'ev', '--name', 'evlake']).out);
    } while (!d.status.finished);
    assertEq([d.type, d.status.rows_delivered, d.status.error.code], ['BaseTask', 2003, ''], 'described');
    const files = lines(ok(['delivery', 'files', '--table', 'ev', '--name', 'evlake', '--json']).out);
    assertEq(files.reduce((n, f) => n + f.rows, 0), 2003, 'rows in the files listed');
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const [r] = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids
      FROM read_parquet('${lake}/bkt/${files[0].key}')`)).getRowObjectsJson();
    assertEq(r, { n: 2003, ids: 2003 }, 'DuckDB reads the delivered file');
    assert.match(ok(['delivery', 'list']).out, /ev\s+evlake\s+BaseTask\s+FINISHED\s+2003/);
    ok(['delivery', 'update', '--table', 'ev', '--name', 'evlake', '--compression', 'ZSTD']);
    assertEq(JSON.parse(ok(['delivery', 'describe', '--table', 'ev', '--name', 'evlake']).out).config.compression, 'ZSTD', 'updated');
    fails(['delivery', 'create', '--table', 'ev', '--name', 'sampledeliverytask', '--bucket', 'bkt', '--oss-endpoint', `file://${lake}`],
      /^error: CreateDeliveryTask: task name 'sampledeliverytask' is invalid: 3 to 16 characters/);
    fails(['delivery', 'run'], /a server runs its delivery tasks itself/);
    ok(['delivery', 'delete', '--table', 'ev', '--name', 'evlake']);
    assertEq(ok(['delivery', 'list']).out.trim().split('\n').length, 1, 'only the header left');
  });

  await test('credential sets: put (secret from another variable), list, delete', async () => {
    fails(['delivery', 'credentials', 'put', 'writer', '--access-key-id', 'AKB'], /holds the secret this command signs with/);
    ok(['delivery', 'credentials', 'put', 'writer', '--access-key-id', 'AKB', '--secret-env', 'BUCKET_SECRET'],
      { env: { ...keys, BUCKET_SECRET: 'bucket-secret' } });
    assertEq(lines(ok(['delivery', 'credentials', 'list']).out), [{ role: 'writer', access_key_id: 'AKB' }], 'listed, no secret');
    ok(['delivery', 'credentials', 'delete', 'writer']);
    assertEq(ok(['delivery', 'credentials', 'list']).out, '', 'deleted');
  });

  await test('errors name the problem', async () => {
    fails(['table', 'list'], /^error: OTSAuthFailed: .*Signature/, { env: { ...keys, TABLELAKE_ACCESS_KEY_SECRET: 'wrong' } });
    fails(['table', 'list'], /--endpoint needs an access key: set TABLELAKE_ACCESS_KEY_ID/, { env: {} });
    const bucketAsServer = spawnSync(bin, ['--endpoint', `file://${lake}`, '--instance', 'inst', 'table', 'list'],
      { encoding: 'utf8', env: { ...process.env, ...keys } });
    assert.match(bucketAsServer.stderr, /is not a server's http:\/\/HOST:PORT .*--oss-endpoint/);
    const dead = spawnSync(bin, ['--endpoint', 'http://127.0.0.1:1', '--instance', 'inst', 'table', 'list'],
      { encoding: 'utf8', env: { ...process.env, ...keys } });
    assert.match(dead.stderr, /^error: ListTable: .*127\.0\.0\.1/);
    fails(['table', 'describe', 'nope'], /^error: OTSObjectNotExist: /);
  });

  await test('the served folder: reads work, a write points at --endpoint', async () => {
    assertEq(cli(['table', 'list'], { remote: false }).out, 'ev\nseq\n', 'embedded read');
    const r = cli(['put', 'ev', '{"id":9,"who":"z"}'], { remote: false });
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`is served by \`tablelake serve\` \\(pid \\d+\\): run the command through it with --endpoint ${endpoint} --instance inst`));
  });

  await test('table drop takes the table\'s tasks with it', async () => {
    ok(['delivery', 'create', '--table', 'seq', '--name', 'seqlake', '--type', 'inc', '--bucket', 'bkt', '--oss-endpoint', `file://${lake}`,
      '--schema', 'part:part:UTF8']);
    assert.match(ok(['table', 'drop', 'seq']).err, /dropped table 'seq' and its delivery task\(s\) seqlake/);
    assertEq(ok(['delivery', 'list', '--json']).out, '', 'no tasks left');
    // The official SDK's DeleteTable does the same on the wire.
    ok(['table', 'create', 'gone', '--pk', 'k:STRING']);
    ok(['delivery', 'create', '--table', 'gone', '--name', 'gonelake', '--type', 'inc', '--bucket', 'bkt',
      '--oss-endpoint', `file://${lake}`, '--schema', 'k:k:UTF8']);
    await sdk.deleteTable({ tableName: 'gone' });
    assertEq(ok(['delivery', 'list', '--json']).out, '', 'the SDK\'s DeleteTable took the task too');
    assertEq(ok(['table', 'list']).out, 'ev\n', 'tables left');
  });
  summarize();
});
