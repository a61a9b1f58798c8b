// `tablelake serve` spoken to in raw protobuf over HTTP, with code written here from the wire
// spec (protobufjs loading our .proto files, Node's crypto for MD5 and HMAC-SHA1): what the
// Node.js SDK cannot send or check. ComputeSplitPointsBySize, malformed and truncated bodies,
// a missing header, a stale date, and every reply's headers and response signature verified
// with the spec's algorithm (not with Tablelake's signer).
//   node tests/interop/server_raw.mjs TABLELAKE_BINARY
import assert from 'assert/strict';
import crypto from 'crypto';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { RawClient, T, runAgainst, startServe } from './raw_client.mjs';

const bin = process.argv[2];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tablelake-raw-'));
const SECRET = 'raw-secret';
const serve = await startServe(bin, ['--data', path.join(dir, 'data'), '--instance', 'raw',
  '--access-key-id', 'RAWKEY'], { TABLELAKE_ACCESS_KEY_SECRET: SECRET });
const port = serve.port;
const client = new RawClient({ port, keyId: 'RAWKEY', secret: SECRET, instance: 'raw' });
const call = client.call.bind(client);
const ok = client.ok.bind(client);
const refused = client.refused.bind(client);
const v4Key = client.v4Key.bind(client);

// PlainBuffer written here from the spec (section 3), for keys and rows.
const crcTable = [...Array(256).keys()].map((i) => {
  let c = i;
  for (let b = 0; b < 8; b++) c = (c & 0x80 ? (c << 1) ^ 0x07 : c << 1) & 0xff;
  return c;
});
const crc = (c, bytes) => { for (const b of bytes) c = crcTable[c ^ b]; return c; };
function intCell(name, v) {
  const n = Buffer.from(name);
  const value = Buffer.alloc(8);
  value.writeBigInt64LE(BigInt(v));
  const parts = [Buffer.from([0x03, 0x04]), u32(n.length), n, Buffer.from([0x05]), u32(9), Buffer.from([0x00]), value];
  const c = crc(crc(crc(0, n), [0x00]), value);
  return { bytes: Buffer.concat([...parts, Buffer.from([0x0a, c])]), crc: c };
}
function u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; }
function row(key, cells = []) {
  let rc = 0;
  const parts = [u32(0x75), Buffer.from([0x01])];
  for (const [n, v] of key) { const c = intCell(n, v); parts.push(c.bytes); rc = crcTable[rc ^ c.crc]; }
  if (cells.length) parts.push(Buffer.from([0x02]));
  for (const [n, v] of cells) { const c = intCell(n, v); parts.push(c.bytes); rc = crcTable[rc ^ c.crc]; }
  rc = crcTable[rc ^ 0];
  parts.push(Buffer.from([0x09, rc]));
  return Buffer.concat(parts);
}

await runAgainst(serve, dir, async () => {
  await ok('CreateTable', 'CreateTable', {
    table_meta: { table_name: 'r', primary_key: [{ name: 'k', type: 1 }] },
    reserved_throughput: { capacity_unit: { read: 0, write: 0 } },
  });
  const batch = { tables: [{ table_name: 'r', rows: [] }] };
  for (let k = 0; k < 3000; k++) {
    batch.tables[0].rows.push({ type: 1, row_change: row([['k', k]], [['v', k]]), condition: { row_existence: 0 } });
    if (batch.tables[0].rows.length === 200) {
      const r = await ok('BatchWriteRow', 'BatchWriteRow', batch);
      assert.ok(r.tables[0].rows.every((x) => x.is_ok));
      batch.tables[0].rows = [];
    }
  }
  const got = await ok('GetRow', 'GetRow', { table_name: 'r', primary_key: row([['k', 42]]), max_versions: 1 });
  assert.ok(got.row.length > 0);
  const splits = await ok('ComputeSplitPointsBySize', 'ComputeSplitPointsBySize',
    { table_name: 'r', split_size: 1, split_size_unit_in_byte: 16384 });
  assert.equal(splits.schema[0].name, 'k');
  assert.ok(splits.split_points.length >= 1, 'no split points for a table of 3000 rows in 16 KB ranges');
  assert.equal(splits.locations.reduce((s, l) => s + Number(l.repeat), 0), splits.split_points.length + 1);
  assert.ok(splits.consumed.capacity_unit);

  // What the SDK cannot send.
  await refused('PutRow', Buffer.from([0x0a, 0x05, 0x01]), 400, 'OTSParameterInvalid', 'not a valid PutRowRequest');
  // A GetRowRequest holding only table_name "r" (protobufjs would not leave out a required field).
  await refused('GetRow', Buffer.from([0x0a, 0x01, 0x72]), 400, 'OTSParameterInvalid', 'primary_key');
  const cut = row([['k', 1]]).subarray(0, 12);
  await refused('GetRow', Buffer.from(T('GetRowRequest').encode({ table_name: 'r', primary_key: cut, max_versions: 1 }).finish()),
    400, 'OTSParameterInvalid', 'PlainBuffer byte');
  const badCrc = Buffer.from(row([['k', 1]]));
  badCrc[badCrc.length - 1] ^= 0xff;
  await refused('GetRow', Buffer.from(T('GetRowRequest').encode({ table_name: 'r', primary_key: badCrc, max_versions: 1 }).finish()),
    400, 'OTSParameterInvalid', 'row checksum');
  await refused('SQLQuery', Buffer.alloc(0), 400, 'OTSParameterInvalid', "'SQLQuery' is not supported");
  await refused('ListTable', Buffer.alloc(0), 400, 'OTSParameterInvalid', 'Missing header: x-ots-apiversion',
    { tamper: (h) => { delete h['x-ots-apiversion']; return h; } });
  await refused('ListTable', Buffer.alloc(0), 403, 'OTSAuthFailed', 'Mismatch between system time',
    { tamper: (h) => ({ ...h, 'x-ots-date': new Date(Date.now() - 3600e3).toISOString() }) });
  await refused('ListTable', Buffer.alloc(0), 403, 'OTSAuthFailed', 'Signature mismatch',
    { tamper: (h) => ({ ...h, 'x-ots-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }) });
  // A wrong-method request and an oversized body.
  const get = await new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: '/ListTable' }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  }));
  assert.equal(get, 405);
  const big = await call('PutRow', Buffer.alloc(6 << 20, 1)).catch((e) => ({ status: 'reset', e }));
  assert.ok(big.status === 413 || big.status === 'reset', `a 6 MB body: ${big.status}`);
  // V4, as the Java SDK signs it: accepted, and the reply signed with the V4 key.
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const key = v4Key(day, 'cn-hangzhou');
  const v4 = { key };
  const v4Headers = (h) => ({ ...h, 'x-ots-signdate': day, 'x-ots-signregion': 'cn-hangzhou' });
  const signedV4 = await call('ListTable', Buffer.alloc(0), { tamper: v4Headers, v4 });
  assert.equal(signedV4.status, 200, String(signedV4.body));
  const h = signedV4.headers;
  const canonical = Object.keys(h).filter((k) => k.startsWith('x-ots-')).sort().map((k) => `${k}:${h[k]}\n`).join('');
  assert.equal(h.authorization, `OTS RAWKEY:${crypto.createHmac('sha1', key).update(canonical + '/ListTable').digest('base64')}`);
  const wrongV4 = await call('ListTable', Buffer.alloc(0), { tamper: v4Headers, v4: { key: v4Key(day, 'cn-shanghai') } });
  assert.equal(wrongV4.status, 403);
  // The server still serves.
  await ok('ListTable', 'ListTable', {});
  assert.ok(!serve.log().includes(SECRET));
  console.log('server_raw: raw protobuf requests, reply headers and response signatures as the spec says');
});
