// Delivery into a bucket over the network, measured in one run: the same table delivered by a
// BaseTask into a local folder and into a local S3 server (tests/interop/bucket_server.mjs:
// s3rver behind a signature-checking front); then the very Parquet bytes uploaded into that
// server by Tablelake's client (bucket_upload_bench) and by @aws-sdk/lib-storage's managed
// upload (8 MiB parts, 4 at once), the peer, taking turns twice (best of each). The server
// checks every signature and payload hash (both clients sign their payloads) but not the
// Content-MD5 only Tablelake sends: its single thread is the bottleneck, and the bench
// measures the clients. Prints seconds, MB/s of Parquet and peak RSS.
//   node bench/s3_bench.mjs TABLELAKE_BINARY [ROWS]
import { execFileSync, spawn, spawnSync } from 'child_process';
import { once } from 'events';
import { createRequire } from 'module';
import fs from 'fs';
import os from 'os';
import path from 'path';
import readline from 'readline';

const here = path.dirname(new URL(import.meta.url).pathname);
const interop = path.join(here, '..', 'tests', 'interop');
const require = createRequire(path.join(interop, 'package.json'));
const { S3Client } = require('@aws-sdk/client-s3');
const { Upload } = require('@aws-sdk/lib-storage');

const bin = process.argv[2];
const rows = Number(process.argv[3] || 1000000);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tablelake-s3bench-'));
const data = path.join(root, 'data');
const KEY = 'AKIDBENCH', SECRET = 'bench-secret';

function tl(args, env = {}) {
  return execFileSync(bin, ['--data', data, ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
}
// Runs a tablelake command under /usr/bin/time: [seconds, peak RSS in MiB].
function timed(args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', bin, '--data', data, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const [secs, kb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return [secs, kb / 1024];
}
function parquetBytes(dir) {
  let n = 0;
  const files = [];
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    if (!f.endsWith('.parquet')) continue;
    const p = path.join(dir, f);
    files.push(p);
    n += fs.statSync(p).size;
  }
  return [n, files];
}

console.error(`loading ${rows} rows`);
const input = path.join(root, 'rows.jsonl');
const out = fs.createWriteStream(input);
let x = 12345;
for (let i = 0; i < rows; i++) {
  x = (x * 1103515245 + 12345) % 2147483648;
  // Payloads that compress little, so that the files are large.
  let payload = '';
  for (let k = 0; k < 6; k++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    payload += x.toString(36);
  }
  out.write(`{"id":${i},"user":"user-${x % 100000}","amount":${(x % 100000) / 100},"payload":"${payload}"}\n`);
}
await new Promise((r) => out.end(r));
tl(['table', 'create', 't', '--pk', 'id:INTEGER']);
tl(['import', 't', input, '--format', 'jsonl']);
const schema = 'id:id:INT64,user:user:UTF8,amount:amount:DOUBLE,payload:payload:UTF8';

const server = spawn(process.execPath, ['--openssl-legacy-provider', path.join(interop, 'bucket_server.mjs'),
  '--protocol', 's3', '--key', KEY, '--buckets', 'lake,peer', '--dir', path.join(root, 's3'), '--no-md5-check'],
{ env: { ...process.env, BUCKET_SERVER_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = await once(readline.createInterface({ input: server.stdout }), 'line');
const port = JSON.parse(line).port;
try {
  tl(['delivery', 'credentials', 'put', 'bench', '--access-key-id', KEY], { TABLELAKE_ACCESS_KEY_SECRET: SECRET });
  fs.mkdirSync(path.join(root, 'lake', 'b'), { recursive: true });
  tl(['delivery', 'create', '--table', 't', '--name', 'folder', '--type', 'base', '--bucket', 'b',
    '--oss-endpoint', `file://${root}/lake`, '--prefix', 'f', '--schema', schema]);
  tl(['delivery', 'create', '--table', 't', '--name', 'remote', '--type', 'base', '--bucket', 'lake',
    '--oss-endpoint', `s3+http://127.0.0.1:${port}`, '--role', 'bench', '--prefix', 'r', '--schema', schema]);
  const [folderSecs, folderRss] = timed(['delivery', 'run', '--once', '--table', 't', '--name', 'folder']);
  const [bytes, files] = parquetBytes(path.join(root, 'lake', 'b'));
  const [s3Secs, s3Rss] = timed(['delivery', 'run', '--once', '--table', 't', '--name', 'remote']);
  const client = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET } });
  const peer = async () => {
    const start = process.hrtime.bigint();
    for (const [i, f] of files.entries()) {
      await new Upload({ client, params: { Bucket: 'peer', Key: `p/${i}.parquet`, Body: fs.createReadStream(f) },
        partSize: 8 << 20, queueSize: 4 }).done();
    }
    return Number(process.hrtime.bigint() - start) / 1e9;
  };
  const ours = () => {
    const r = spawnSync(path.join(path.dirname(bin), 'bucket_upload_bench'),
      [`s3+http://127.0.0.1:${port}`, 'peer', ...files],
      { encoding: 'utf8', env: { ...process.env, BENCH_KEY_ID: KEY, BENCH_KEY_SECRET: SECRET } });
    if (r.status !== 0) throw new Error(r.stderr);
    return Number(r.stdout.trim());
  };
  // The two clients take turns, twice, and each reports its best: neither always goes first
  // into a server whose disk and cache the other has filled.
  let ourSecs = Infinity, peerSecs = Infinity;
  for (let round = 0; round < 2; round++) {
    ourSecs = Math.min(ourSecs, ours());
    peerSecs = Math.min(peerSecs, await peer());
  }
  const mb = bytes / 1e6;
  const row = (name, secs, rss, note) => console.log(
    `${name.padEnd(52)} ${secs.toFixed(2).padStart(7)} s ${(mb / secs).toFixed(1).padStart(8)} MB/s` +
    `${rss ? `  peak RSS ${rss.toFixed(0)} MiB` : ''}${note ? `  ${note}` : ''}`);
  console.log(`${rows} rows, ${files.length} Parquet files, ${mb.toFixed(1)} MB (rows/s counts the whole delivery)`);
  row('Tablelake BaseTask into a folder', folderSecs, folderRss, `${Math.round(rows / folderSecs)} rows/s`);
  row('Tablelake BaseTask into the local S3 server', s3Secs, s3Rss, `${Math.round(rows / s3Secs)} rows/s`);
  row('Tablelake client uploading those bytes (1 MiB appends)', ourSecs, 0,
    `${(peerSecs / ourSecs).toFixed(2)}x the peer's speed`);
  row('@aws-sdk/lib-storage managed upload of those bytes', peerSecs, 0, 'the peer');
} finally {
  server.kill();
  fs.rmSync(root, { recursive: true, force: true });
}
