// A bucket server for tests on 127.0.0.1: s3rver (from the npm registry) behind a front that
// refuses every request whose signature is wrong, since s3rver checks no SigV4 and no OSS
// signature. The front checks with independent code: @smithy/signature-v4 for SigV4, ali-oss's
// own signing functions for OSS; then forwards the request, unsigned, to s3rver.
//   node bucket_server.mjs --protocol s3|oss --key ID --buckets a,b [--dir DIR]
//       [--fault-rate R --seed N]   a share R of requests fails: 503 SlowDown, 500, the
//                                   connection reset in the middle of the body, or a reply
//                                   held back 2 s (seeded, so a run repeats)
//       [--slow-parts MS]           every multipart part's reply held back MS
//       [--tls-cert PEM --tls-key PEM]   https instead of http
//       [--no-md5-check]            for benchmarks: clients that send Content-MD5 do not pay
//                                   for the server's check of it (s3rver runs on one thread)
// s3rver lacks ListMultipartUploads (GET ?uploads) and AbortMultipartUpload (DELETE
// ?uploadId): the front keeps the open uploads it has seen started and answers both, so
// recovery can be checked.
// The secret comes from $BUCKET_SERVER_SECRET. Prints {"port": N} when ready; runs until killed.
// Also checks Content-MD5 and x-amz-content-sha256 against the body.
import http from 'http';
import https from 'https';
import crypto from 'crypto';
import os from 'os';
import path from 'path';
import fs from 'fs';
import S3rver from 's3rver';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import signUtils from 'ali-oss/lib/common/signUtils.js';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : '']] : acc, []));
const protocol = args.protocol || 's3';
const accessKey = args.key || 'AKIDTEST';
const secret = process.env.BUCKET_SERVER_SECRET || 'secret';
// A folder of our own making is removed when the server stops (SIGTERM, SIGINT): a suite
// starts dozens of these servers.
const ownDir = !args.dir;
const dir = args.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'bucket-server-'));
const buckets = (args.buckets || 'bucket').split(',').filter(Boolean);
const faultRate = Number(args['fault-rate'] || 0);
let seed = Number(args.seed || 1);
function random() {  // mulberry32: a seeded generator, so a faulty run repeats
  seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const faults = { slowdown: 0, error500: 0, reset: 0, slow: 0 };
const slowPartsMs = Number(args['slow-parts'] || 0);
const openUploads = new Map();  // uploadId -> {bucket, key}

function bucketAndKey(req) {
  const { pathDecoded } = decodedPathAndQuery(req);
  const [, bucket, ...key] = pathDecoded.split('/');
  return { bucket, key: key.join('/') };
}

function listUploads(req, res) {
  const { bucket } = bucketAndKey(req);
  const prefix = new URL(req.url, 'http://x').searchParams.get('prefix') || '';
  const uploads = [...openUploads].filter(([, u]) => u.bucket === bucket && u.key.startsWith(prefix))
    .map(([id, u]) => `<Upload><Key>${u.key}</Key><UploadId>${id}</UploadId></Upload>`).join('');
  res.writeHead(200, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>${bucket}</Bucket>` +
    `<IsTruncated>false</IsTruncated>${uploads}</ListMultipartUploadsResult>`);
}

const backend = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir,
  configureBuckets: buckets.map((name) => ({ name })) });
const { port: backendPort } = await backend.run();

function reject(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

// A virtual-hosted request (Host: BUCKET.some.host) names its bucket in the host; on an IP
// address or localhost the request is path style.
function hostBucket(req) {
  const host = (req.headers.host || '').split(':')[0];
  if (host === 'localhost' || /^\d+\.\d+\.\d+\.\d+$/.test(host) || !host.includes('.')) return null;
  return host.split('.')[0];
}

function decodedPathAndQuery(req) {
  const url = new URL(req.url, 'http://x');
  let pathDecoded = url.pathname.split('/').map(decodeURIComponent).join('/');
  if (hostBucket(req)) pathDecoded = `/${hostBucket(req)}${pathDecoded}`;
  const query = [];
  for (const [k, v] of url.searchParams) query.push([k, v]);
  return { pathDecoded, query };
}

async function checkSigV4(req, body) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'the Authorization header is not a SigV4 signature';
  const [, key, , region, signedHeaders, signature] = m;
  if (key !== accessKey) return `unknown access key ${key}`;
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (payloadHash !== 'UNSIGNED-PAYLOAD' &&
      payloadHash !== crypto.createHash('sha256').update(body).digest('hex')) {
    return 'x-amz-content-sha256 does not match the body';
  }
  const { pathDecoded, query } = decodedPathAndQuery(req);
  const headers = {};
  for (const name of signedHeaders.split(';')) headers[name] = req.headers[name];
  const q = {};
  for (const [k, v] of query) q[k] = q[k] === undefined ? v : [].concat(q[k], v);
  const amzDate = req.headers['x-amz-date'];
  const date = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const signer = new SignatureV4({ credentials: { accessKeyId: key, secretAccessKey: secret,
    sessionToken: req.headers['x-amz-security-token'] }, region, service: 's3', sha256: Sha256,
    uriEscapePath: true, applyChecksum: false });
  const [hostname, port] = req.headers.host.split(':');
  const signed = await signer.sign({ method: req.method, protocol: 'http:', hostname,
    port: port ? Number(port) : undefined, path: pathDecoded, query: q, headers, body },
  { signingDate: date });
  const expected = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
  return expected === signature ? null : 'SignatureDoesNotMatch';
}

const OSS_SUBRESOURCES = new Set(['acl', 'uploads', 'location', 'cors', 'logging', 'website',
  'referer', 'lifecycle', 'delete', 'append', 'tagging', 'objectMeta', 'uploadId', 'partNumber',
  'security-token', 'position', 'symlink', 'restore', 'continuation-token']);

// OSS4-HMAC-SHA256 (OSS's signature version 4), checked with ali-oss's authorizationV4.
function checkOss4(req, auth) {
  const m = /^OSS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/oss\/aliyun_v4_request,Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'the Authorization header is not an OSS V4 signature';
  const [, key, , region] = m;
  if (key !== accessKey) return `unknown access key ${key}`;
  const { pathDecoded, query } = decodedPathAndQuery(req);
  const [, bucket, ...object] = pathDecoded.split('/');
  const queries = {};
  for (const [k, v] of query) queries[k] = OSS_SUBRESOURCES.has(k) && v === '' ? null : v;
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) if (k !== 'authorization') headers[k] = v;
  const expected = signUtils.authorizationV4(key, secret, region, req.method, { headers, queries },
    bucket, object.join('/'));
  return expected === auth ? null : 'SignatureDoesNotMatch';
}

function checkOss(req) {
  const auth = req.headers.authorization || '';
  if (auth.startsWith('OSS4-HMAC-SHA256 ')) return checkOss4(req, auth);
  const m = /^OSS ([^:]+):(.+)$/.exec(auth);
  if (!m) return 'the Authorization header is not an OSS signature';
  if (m[1] !== accessKey) return `unknown access key ${m[1]}`;
  let { pathDecoded, query } = decodedPathAndQuery(req);
  // The resource of a bucket-level request is /bucket/, with or without the slash in the URL.
  if (pathDecoded.split('/').length === 2) pathDecoded += '/';
  const parameters = {};
  for (const [k, v] of query) if (OSS_SUBRESOURCES.has(k)) parameters[k] = v;
  // Path style on an IP host: /bucket/key is the resource as it is.
  const canonical = signUtils.buildCanonicalString(req.method, pathDecoded,
    { headers: req.headers, parameters });
  const expected = signUtils.computeSignature(secret, canonical);
  if (expected !== m[2] && process.env.BUCKET_SERVER_DEBUG) console.error(JSON.stringify([canonical, req.headers.host, req.url]));
  return expected === m[2] ? null : 'SignatureDoesNotMatch';
}

const handle = (req, res) => {
  const chunks = [];
  const fault = faultRate > 0 && random() < faultRate
    ? ['slowdown', 'error500', 'reset', 'slow'][Math.floor(random() * 4)] : null;
  if (fault) faults[fault]++;
  req.on('data', (c) => {
    chunks.push(c);
    if (fault === 'reset') req.socket.destroy();  // in the middle of the body
  });
  req.on('end', async () => {
    if (fault === 'reset') return req.socket.destroy();
    if (fault === 'slowdown') return reject(res, 503, 'SlowDown', 'Please reduce your request rate.');
    if (fault === 'error500') return reject(res, 500, 'InternalError', 'We encountered an internal error.');
    if (fault === 'slow') await new Promise((r) => setTimeout(r, 2000));
    const body = Buffer.concat(chunks);
    const md5 = req.headers['content-md5'];
    if (md5 && !('no-md5-check' in args) && md5 !== crypto.createHash('md5').update(body).digest('base64')) {
      return reject(res, 400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    const why = protocol === 'oss' ? checkOss(req) : await checkSigV4(req, body);
    if (why) return reject(res, 403, why === 'SignatureDoesNotMatch' ? why : 'AccessDenied', why);
    const query = new URL(req.url, 'http://x').searchParams;
    if (req.method === 'GET' && query.has('uploads')) return listUploads(req, res);
    if (req.method === 'DELETE' && query.has('uploadId')) {
      if (!openUploads.delete(query.get('uploadId'))) return reject(res, 404, 'NoSuchUpload', 'no such upload');
      res.writeHead(204);
      return res.end();
    }
    // Conditional publication, which s3rver ignores: If-None-Match: * (S3) and
    // x-oss-forbid-overwrite (OSS) refuse to replace an existing object.
    const publishing = (req.method === 'PUT' && !query.has('partNumber')) ||
      (req.method === 'POST' && query.has('uploadId'));
    const noReplace = req.headers['if-none-match'] === '*' || req.headers['x-oss-forbid-overwrite'] === 'true';
    if (publishing && noReplace && await exists(req)) {
      if (req.method === 'POST') openUploads.delete(query.get('uploadId'));
      return protocol === 'oss'
        ? reject(res, 409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.')
        : reject(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    if (slowPartsMs && req.method === 'PUT' && query.has('partNumber')) {
      await new Promise((r) => setTimeout(r, slowPartsMs));
    }
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k === 'authorization' || k.startsWith('x-amz-') || k.startsWith('x-oss-')) continue;
      headers[k] = v;
    }
    headers.host = `127.0.0.1:${backendPort}`;
    // s3rver gets path-style requests.
    const forwardPath = hostBucket(req) ? `/${hostBucket(req)}${req.url}` : req.url;
    const forward = http.request({ host: '127.0.0.1', port: backendPort, method: req.method,
      path: forwardPath, headers }, (reply) => {
      const parts = [];
      reply.on('data', (c) => parts.push(c));
      reply.on('end', () => {
        const replyBody = Buffer.concat(parts);
        if (reply.statusCode < 300) track(req, query, replyBody.toString());
        res.writeHead(reply.statusCode, reply.headers);
        res.end(replyBody);
      });
    });
    forward.on('error', (e) => reject(res, 502, 'BadGateway', e.message));
    forward.end(body);
  });
};
const front = args['tls-cert']
  ? https.createServer({ cert: fs.readFileSync(args['tls-cert']), key: fs.readFileSync(args['tls-key']) }, handle)
  : http.createServer(handle);
// Whether the request's object exists, asked of s3rver.
function exists(req) {
  const { bucket, key } = bucketAndKey(req);
  return new Promise((resolve) => {
    const head = http.request({ host: '127.0.0.1', port: backendPort, method: 'HEAD',
      path: `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}` }, (reply) => {
      reply.resume();
      resolve(reply.statusCode === 200);
    });
    head.on('error', () => resolve(false));
    head.end();
  });
}

// Keeps openUploads up to date from the requests s3rver accepted.
function track(req, query, replyBody) {
  if (req.method === 'POST' && query.has('uploads')) {
    const id = /<UploadId>([^<]+)<\/UploadId>/.exec(replyBody);
    if (id) openUploads.set(id[1], bucketAndKey(req));
  } else if ((req.method === 'POST' || req.method === 'DELETE') && query.has('uploadId')) {
    openUploads.delete(query.get('uploadId'));
  }
}

function stop() {
  if (faultRate > 0) process.stderr.write(`bucket_server faults injected: ${JSON.stringify(faults)}\n`);
  if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
front.listen(Number(args.port || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: front.address().port, dir }) + '\n');
});
