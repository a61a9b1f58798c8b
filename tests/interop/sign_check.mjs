// Signs requests with independent signers from the npm registry, for differential tests of
// Tablelake's own: reads one JSON request per line on stdin, prints one JSON answer per line.
//   {"signer":"sigv4", "method", "host", "path" (decoded), "query": [[k, v]...], "headers": [[k, v]...],
//    "body", "time" (unix seconds), "key", "secret", "token", "region"}
//   -> {"authorization": "..."}  (@smithy/signature-v4, S3 rules: the path encoded once)
//   {"signer":"oss", "method", "resource" ("/bucket/key", decoded), "headers": [[k, v]...],
//    "parameters": [[k, v]...] (sub-resources), "key", "secret"}
//   -> {"authorization": "OSS key:signature"}  (ali-oss's own signUtils)
//   {"signer":"oss4", "method", "bucket", "object", "headers", "query": [[k, v, is_subresource]...],
//    "region", "key", "secret"} -> {"authorization": "OSS4-HMAC-SHA256 ..."}  (ali-oss, V4)
import { createInterface } from 'readline';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import signUtils from 'ali-oss/lib/common/signUtils.js';

async function sigv4(r) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: r.key, secretAccessKey: r.secret, sessionToken: r.token || undefined },
    region: r.region, service: 's3', sha256: Sha256,
    uriEscapePath: true,  // given the decoded path, it encodes once, as S3 wants
    applyChecksum: true,
  });
  const query = {};
  for (const [k, v] of r.query) query[k] = query[k] === undefined ? v : [].concat(query[k], v);
  const headers = {};
  for (const [k, v] of r.headers) headers[k] = v;
  const [hostname, port] = r.host.split(':');
  const signed = await signer.sign(
    { method: r.method, protocol: 'http:', hostname, port: port ? Number(port) : undefined,
      path: r.path, query, headers, body: r.body },
    { signingDate: new Date(r.time * 1000) });
  return { authorization: signed.headers.authorization };
}

function oss(r) {
  const headers = {};
  for (const [k, v] of r.headers) headers[k] = v;
  const parameters = {};
  for (const [k, v] of r.parameters) parameters[k] = v;
  const canonical = signUtils.buildCanonicalString(r.method, r.resource, { headers, parameters });
  return { authorization: signUtils.authorization(r.key, r.secret, canonical) };
}

function oss4(r) {
  const headers = {};
  for (const [k, v] of r.headers) headers[k] = v;
  // As ali-oss builds them: a sub-resource without a value is null (signed as its name).
  const queries = {};
  for (const [k, v, sub] of r.query) queries[k] = sub && v === '' ? null : v;
  return { authorization: signUtils.authorizationV4(r.key, r.secret, r.region, r.method,
    { headers, queries }, r.bucket, r.object) };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const r = JSON.parse(line);
  const out = r.signer === 'sigv4' ? await sigv4(r)
    : r.signer === 'oss' ? oss(r) : r.signer === 'oss4' ? oss4(r) : { error: `unknown signer ${r.signer}` };
  process.stdout.write(JSON.stringify(out) + '\n');
}
