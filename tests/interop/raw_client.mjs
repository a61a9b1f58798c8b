// A raw Tablestore client written here from the wire spec, for tests that send what the Node.js
// SDK cannot: protobufjs loading our .proto files, requests signed with Node's crypto (V2, or V4
// with a key derived here), and every reply's headers and response signature checked with the
// spec's algorithm (sections 1.3-1.5), not with Tablelake's signer. Also starts `tablelake serve`.
import assert from 'assert/strict';
import { spawn } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import http from 'http';
import path from 'path';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs');
const here = path.dirname(new URL(import.meta.url).pathname);
const root = new protobuf.Root();
root.loadSync(['tablestore.proto', 'tablestore_filter.proto', 'tablestore_delivery.proto']
  .map((f) => path.join(here, '..', '..', 'proto', f)), { keepCase: true });
export const T = (name) => root.lookupType(`tablelake.wire.${name}`);
export const md5 = (b) => crypto.createHash('md5').update(b).digest('base64');

// `tablelake serve` on a free port; resolves once it listens. `log()` is its standard error.
export async function startServe(bin, args, env) {
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      log += d;
      const m = /listening on [\d.]+:(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${log}`)));
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  };
  return { child, port, log: () => log, stop };
}

// Runs a test's body against `serve`, then stops the server and removes `dir`; a failure prints
// the error and the server's log. Ends the process, non-zero on failure.
export async function runAgainst(serve, dir, body) {
  let failed = false;
  try {
    await body();
  } catch (e) {
    failed = true;
    console.error(e);
    console.error('server log:\n' + serve.log());
  } finally {
    await serve.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

export class RawClient {
  constructor({ port, keyId, secret, instance }) {
    Object.assign(this, { port, keyId, secret, instance });
  }
  hmac(s) { return crypto.createHmac('sha1', this.secret).update(s).digest('base64'); }
  // The Java SDK's V4 signing key (wire spec 1.4): base64 of four HMAC-SHA256 steps.
  v4Key(day, region) {
    let k = crypto.createHmac('sha256', 'aliyun_v4' + this.secret).update(day).digest();
    for (const part of [region, 'ots', 'aliyun_v4_request']) k = crypto.createHmac('sha256', k).update(part).digest();
    return k.toString('base64');
  }
  // Signs as section 1.3 says and sends; `tamper` changes headers first, `v4` signs with V4.
  call(op, body, { tamper = (h) => h, v4 = null } = {}) {
    const headers = tamper({
      'x-ots-date': new Date().toISOString(),
      'x-ots-apiversion': '2015-12-31',
      'x-ots-accesskeyid': this.keyId,
      'x-ots-instancename': this.instance,
      'x-ots-contentmd5': md5(body),
    });
    const canonical = Object.keys(headers).filter((k) => k.startsWith('x-ots-')).sort()
      .map((k) => `${k}:${headers[k]}\n`).join('');
    if (v4) {
      headers['x-ots-signaturev4'] = crypto.createHmac('sha256', v4.key)
        .update(`/${op}\nPOST\n\n${canonical}ots`).digest('base64');
    } else {
      headers['x-ots-signature'] ??= this.hmac(`/${op}\nPOST\n\n${canonical}`);
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method: 'POST', path: `/${op}`, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  // What the Java and Python SDKs check of every reply (section 1.5).
  checkReply(op, reply) {
    const h = reply.headers;
    assert.equal(h['x-ots-contentmd5'], md5(reply.body), `${op}: body MD5`);
    assert.equal(h['x-ots-contenttype'], 'protocol buffer');
    assert.match(h['x-ots-date'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.ok(Math.abs(Date.parse(h['x-ots-date']) - Date.now()) < 60000);
    assert.ok(h['x-ots-requestid']);
    const canonical = Object.keys(h).filter((k) => k.startsWith('x-ots-')).sort()
      .map((k) => `${k}:${h[k]}\n`).join('');
    assert.equal(h.authorization, `OTS ${this.keyId}:${this.hmac(canonical + '/' + op)}`, `${op}: response signature`);
  }
  static encode(type, fields) {
    return Buffer.from(T(`${type}Request`).encode(T(`${type}Request`).fromObject(fields)).finish());
  }
  // `op` with a `${type}Request` of `fields`: the decoded `${type}Response`, or a failed assert.
  async ok(op, type, fields) {
    const reply = await this.call(op, RawClient.encode(type, fields));
    this.checkReply(op, reply);
    assert.equal(reply.status, 200, `${op}: ${reply.body}`);
    return T(`${type}Response`).decode(reply.body);
  }
  async refused(op, body, status, code, text, options) {
    const reply = await this.call(op, body, options);
    assert.equal(reply.status, status, `${op}: ${reply.status} ${reply.body}`);
    const error = T('Error').decode(reply.body);
    assert.equal(error.code, code);
    assert.ok(error.message.includes(text), `"${error.message}" lacks "${text}"`);
    assert.ok(reply.headers['x-ots-requestid'], 'an error without x-ots-requestid fails the Java SDK');
    return reply;
  }
}
