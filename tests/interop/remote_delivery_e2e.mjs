// Delivery into S3 and OSS endpoints through the `tablelake` CLI: every task type into a local
// S3 server and a local OSS server (bucket_server.mjs: s3rver behind fronts that check every
// signature with independent code), the objects listed and read back with the providers' own
// clients (@aws-sdk/client-s3, ali-oss) and the Parquet read by DuckDB.
//   node remote_delivery_e2e.mjs TABLELAKE_BINARY
// Prints "N passed, M failed" and exits non-zero on any failure.
import { execFileSync, spawn } from 'child_process';
import { once } from 'events';
import fs from 'fs';
import https from 'https';
import os from 'os';
import path from 'path';
import readline from 'readline';
import { S3Client, ListObjectsV2Command, GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import OSS from 'ali-oss';
import { DuckDBInstance } from '@duckdb/node-api';
import { test, assertEq, finish } from './harness.mjs';

const bin = process.argv[2];
const here = path.dirname(new URL(import.meta.url).pathname);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tablelake-remote-'));
const data = path.join(root, 'data');
const KEY = 'AKIDLAKE', SECRET = 'lake-secret-1234';
const db = await (await DuckDBInstance.create(':memory:')).connect();
const servers = [];
let nextLateId = 100000;  // rows written after a task's first run

async function startServer(protocol, more = []) {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', path.join(here, 'bucket_server.mjs'),
    '--protocol', protocol, '--key', KEY, '--buckets', 'lake', ...more],
  { env: { ...process.env, BUCKET_SERVER_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  const [line] = await once(readline.createInterface({ input: child.stdout }), 'line');
  return JSON.parse(line).port;
}
function tl(args, input, env = {}) {
  return execFileSync(bin, ['--data', data, ...args],
    { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
}

// `ca`: the PEM of a TLS server's certificate, to reach it over https.
function s3Client(port, ca) {
  return new S3Client({ endpoint: `${ca ? 'https' : 'http'}://127.0.0.1:${port}`, region: 'us-east-1',
    forcePathStyle: true, credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
    requestHandler: ca ? { httpsAgent: new https.Agent({ ca }) } : undefined });
}
async function openUploads(port, prefix) {
  const page = await s3Client(port).send(new ListMultipartUploadsCommand({ Bucket: 'lake', Prefix: prefix }));
  return page.Uploads || [];
}
// Every object under `prefix`, read with the provider's own client: [{key, bytes}].
async function s3Objects(port, prefix, ca) {
  const client = s3Client(port, ca);
  const out = [];
  let token;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents || []) {
      const got = await client.send(new GetObjectCommand({ Bucket: 'lake', Key: o.Key }));
      out.push({ key: o.Key, bytes: Buffer.from(await got.Body.transformToByteArray()) });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}
async function ossObjects(port, prefix) {
  const client = new OSS({ endpoint: `http://127.0.0.1:${port}`, bucket: 'lake', accessKeyId: KEY,
    accessKeySecret: SECRET, cname: false, secure: false });
  const out = [];
  let token;
  do {
    const page = await client.listV2({ prefix, 'max-keys': 1000, 'continuation-token': token });
    for (const o of page.objects || []) {
      const got = await client.get(o.name);
      out.push({ key: o.name, bytes: got.content });
    }
    token = page.isTruncated ? page.nextContinuationToken : undefined;
  } while (token);
  return out;
}
// The rows of the Parquet objects, read by DuckDB from local copies.
async function rowsOf(objects) {
  const dir = fs.mkdtempSync(path.join(root, 'copy-'));
  const files = objects.filter((o) => o.key.endsWith('.parquet')).map((o, i) => {
    const file = path.join(dir, `${i}.parquet`);
    fs.writeFileSync(file, o.bytes);
    return file;
  });
  if (files.length === 0) return [];
  const list = files.map((f) => `'${f}'`).join(',');
  return (await db.runAndReadAll(`SELECT id::INTEGER AS id, v FROM read_parquet([${list}]) ORDER BY id`)).getRowObjectsJson();
}

const ports = { s3: await startServer('s3'), oss: await startServer('oss') };
try {
  tl(['table', 'create', 'events', '--pk', 'id:INTEGER']);
  tl(['put', 'events'], Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i, v: `value ${i} é` })).join('\n'));
  tl(['delivery', 'credentials', 'put', 'lake-writer', '--access-key-id', KEY], undefined,
    { TABLELAKE_ACCESS_KEY_SECRET: SECRET });

  for (const protocol of ['s3', 'oss']) {
    const endpoint = `${protocol}+http://127.0.0.1:${ports[protocol]}`;
    const read = protocol === 's3' ? s3Objects : ossObjects;
    for (const type of ['base', 'inc', 'baseinc']) {
      const name = `${protocol}-${type}`;
      await test(`${type} task into ${protocol.toUpperCase()}, read back by the provider's client`, async () => {
        const tableRows = tl(['range', 'events', '--columns', 'id']).trim().split('\n').length;
        tl(['delivery', 'create', '--table', 'events', '--name', name, '--type', type, '--bucket', 'lake',
          '--oss-endpoint', endpoint, '--role', 'lake-writer', '--prefix', `${name}/year=$yyyy`,
          '--schema', 'id:id:INT64,v:v:UTF8']);
        tl(['delivery', 'run', '--once', '--table', 'events', '--name', name]);
        const before = await rowsOf(await read(ports[protocol], `${name}/`));
        const snapshot = type === 'inc' ? 0 : tableRows;
        assertEq(before.length, snapshot, 'rows after the first run');
        tl(['put', 'events', JSON.stringify({ id: nextLateId++, v: `after ${name}` })]);
        tl(['delivery', 'run', '--once', '--table', 'events', '--name', name]);
        const after = await rowsOf(await read(ports[protocol], `${name}/`));
        assertEq(after.length, type === 'base' ? snapshot : snapshot + 1, 'rows after the second run');
        assertEq(new Set(after.map((r) => r.id)).size, after.length, 'each row once');
        if (type !== 'inc') assertEq(after[7], { id: 7, v: 'value 7 é' }, 'a row');
        const d = JSON.parse(tl(['delivery', 'describe', '--table', 'events', '--name', name]));
        assertEq(d.status.error.code, '', 'no error');
        assertEq(d.status.rows_delivered, after.length, 'rows counted');
      });
    }
    await test(`refused keys put a ${protocol.toUpperCase()} task in UNAUTHORIZED, and it carries on once fixed`, async () => {
      tl(['delivery', 'credentials', 'put', 'wrong', '--access-key-id', KEY], undefined,
        { TABLELAKE_ACCESS_KEY_SECRET: 'not-the-secret' });
      const name = `${protocol}-wrong`;
      tl(['delivery', 'create', '--table', 'events', '--name', name, '--type', 'base', '--bucket', 'lake',
        '--oss-endpoint', endpoint, '--role', 'wrong', '--prefix', name, '--schema', 'id:id:INT64']);
      let err = '';
      try { tl(['delivery', 'run', '--once', '--table', 'events', '--name', name]); } catch (e) { err = e.stderr; }
      if (!err.includes('403')) throw new Error(`run: ${err}`);
      if (err.includes('not-the-secret')) throw new Error('the secret leaked into the error');
      let d = JSON.parse(tl(['delivery', 'describe', '--table', 'events', '--name', name]));
      assertEq(d.status.error.code, 'UNAUTHORIZED', 'error code');
      if (JSON.stringify(d).includes('not-the-secret')) throw new Error('the secret leaked into describe');
      tl(['delivery', 'credentials', 'put', 'wrong', '--access-key-id', KEY], undefined,
        { TABLELAKE_ACCESS_KEY_SECRET: SECRET });
      tl(['delivery', 'run', '--once', '--table', 'events', '--name', name]);
      d = JSON.parse(tl(['delivery', 'describe', '--table', 'events', '--name', name]));
      assertEq(d.status.error.code, '', 'error cleared');
      assertEq(d.status.finished, true, 'finished');
    });
    await test(`a missing ${protocol.toUpperCase()} bucket is INVALID_OSS_BUCKET with the endpoint's message`, async () => {
      const name = `${protocol}-nob`;
      tl(['delivery', 'create', '--table', 'events', '--name', name, '--type', 'base', '--bucket', 'nosuchbucket',
        '--oss-endpoint', endpoint, '--role', 'lake-writer', '--schema', 'id:id:INT64']);
      try { tl(['delivery', 'run', '--once', '--table', 'events', '--name', name]); } catch (e) { /* expected */ }
      const d = JSON.parse(tl(['delivery', 'describe', '--table', 'events', '--name', name]));
      assertEq(d.status.error.code, 'INVALID_OSS_BUCKET', 'error code');
      if (!d.status.error.detail.includes('404')) throw new Error(`detail: ${d.status.error.detail}`);
    });
  }
  await test('faults on the way (503 SlowDown, 500, resets mid-part, slow replies): each row once', async () => {
    const port = await startServer('s3', ['--fault-rate', '0.25', '--seed', '7']);
    tl(['table', 'create', 'wide', '--pk', 'id:INTEGER']);
    // Values that do not compress, uncompressed files: about 13 MB, sent as multipart uploads.
    let x = 1;
    const noise = () => { x = (x * 1103515245 + 12345) % 2147483648; return x.toString(16); };
    tl(['put', 'wide'], Array.from({ length: 6000 }, (_, i) =>
      JSON.stringify({ id: i, v: Array.from({ length: 250 }, noise).join('') })).join('\n'));
    for (const type of ['base', 'inc']) {
      tl(['delivery', 'create', '--table', 'wide', '--name', `faulty-${type}`, '--type', type, '--bucket', 'lake',
        '--oss-endpoint', `s3+http://127.0.0.1:${port}`, '--role', 'lake-writer', '--prefix', `faulty-${type}`,
        '--compression', 'UNCOMPRESSED', '--schema', 'id:id:INT64,v:v:UTF8']);
    }
    tl(['put', 'wide'], Array.from({ length: 500 }, (_, i) =>
      JSON.stringify({ id: 10000 + i, v: `late ${i}` })).join('\n'));
    for (const type of ['base', 'inc']) tl(['delivery', 'run', '--once', '--table', 'wide', '--name', `faulty-${type}`]);
    for (const [type, want] of [['base', 6500], ['inc', 500]]) {
      const rows = await rowsOf(await s3Objects(port, `faulty-${type}/`));
      assertEq(rows.length, want, `${type}: rows`);
      assertEq(new Set(rows.map((r) => r.id)).size, want, `${type}: each row once`);
    }
  });
  await test('kill -9 in the middle of a multipart upload, then a re-run: each row once, no upload left open', async () => {
    const port = await startServer('s3', ['--slow-parts', '1500']);
    tl(['delivery', 'create', '--table', 'wide', '--name', 'killed', '--type', 'base', '--bucket', 'lake',
      '--oss-endpoint', `s3+http://127.0.0.1:${port}`, '--role', 'lake-writer', '--prefix', 'killed',
      '--compression', 'UNCOMPRESSED', '--schema', 'id:id:INT64,v:v:UTF8']);
    const child = spawn(bin, ['--data', data, 'delivery', 'run', '--once', '--table', 'wide', '--name', 'killed'],
      { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    const deadline = Date.now() + 30000;
    while ((await openUploads(port, 'killed/')).length === 0 && child.exitCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    if (child.signalCode !== 'SIGKILL') throw new Error(`the run ended before it could be killed (${child.exitCode})`);
    assertEq((await openUploads(port, 'killed/')).length, 1, 'the killed run left its upload open');
    try { tl(['delivery', 'run', '--once', '--table', 'wide', '--name', 'killed']); } catch (e) { throw new Error(e.stderr); }
    assertEq(await openUploads(port, 'killed/'), [], 'uploads left open after the re-run');
    const objects = await s3Objects(port, 'killed/');
    const rows = await rowsOf(objects);
    assertEq(rows.length, 6500, 'rows');
    assertEq(new Set(rows.map((r) => r.id)).size, 6500, 'each row once');
    const stray = objects.map((o) => o.key).filter((k) => !/\.parquet$|\.manifest\.json$|_SUCCESS$/.test(k));
    assertEq(stray, [], 'stray objects');
  });
  await test('https: a certificate the system does not trust is refused, and trusted through TABLELAKE_CA_BUNDLE', async () => {
    const cert = path.join(root, 'cert.pem'), key = path.join(root, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore' });
    const port = await startServer('s3', ['--tls-cert', cert, '--tls-key', key]);
    tl(['delivery', 'create', '--table', 'wide', '--name', 'tls', '--type', 'base', '--bucket', 'lake',
      '--oss-endpoint', `s3+https://127.0.0.1:${port}`, '--role', 'lake-writer', '--prefix', 'tls',
      '--schema', 'id:id:INT64,v:v:UTF8']);
    let err = '';
    try { tl(['delivery', 'run', '--once', '--table', 'wide', '--name', 'tls']); } catch (e) { err = e.stderr; }
    if (!/certificate/i.test(err)) throw new Error(`run without the CA: ${err}`);
    const d = JSON.parse(tl(['delivery', 'describe', '--table', 'wide', '--name', 'tls']));
    assertEq(d.status.error.code, 'INVALID_OSS_BUCKET', 'error code');
    tl(['delivery', 'run', '--once', '--table', 'wide', '--name', 'tls'], undefined, { TABLELAKE_CA_BUNDLE: cert });
    const rows = await rowsOf(await s3Objects(port, 'tls/', fs.readFileSync(cert)));
    const tableRows = tl(['range', 'wide', '--columns', 'id']).trim().split('\n').length;
    assertEq(rows.length, tableRows, 'rows over https');
    assertEq(new Set(rows.map((r) => r.id)).size, tableRows, 'each row once');
  });
} finally {
  for (const s of servers) s.kill();
  fs.rmSync(root, { recursive: true, force: true });
}
finish();
