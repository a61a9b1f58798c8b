// Reads every file of a Parquet conformance matrix (see tests/parquet/conformance_gen.cc) with
// three readers nobody here wrote - DuckDB, hyparquet and parquet-wasm (through apache-arrow) -
// and compares every value with what the writer recorded. Also checks the row-group statistics
// DuckDB reads against the values, and the row count.
//
//   node check_parquet.mjs DIR        exit 0 when every file and value matches
import fs from 'fs';
import path from 'path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import * as parquetWasm from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';

const dir = process.argv[2];
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const db = await (await DuckDBInstance.create(':memory:')).connect();

let failures = 0;
let checked = 0;
function fail(file, reader, column, row, got, want) {
  if (++failures <= 40) {
    console.error(`MISMATCH ${file} [${reader}] column ${column} row ${row}: got ${show(got)}, want ${show(want)}`);
  }
}
function show(v) {
  if (typeof v === 'bigint') return v + 'n';
  if (v instanceof Date) return `Date(${v.getTime()})`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}[${Array.from(v).slice(0, 8)}]`;
  return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x + 'n' : x));
}

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const floatOf = (text) => (text === 'nan' ? NaN : text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text));
const sameFloat = (got, want) => Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want));
const floorDiv = (a, b) => { const q = a / b; return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q; };
function decimalText(unscaled, scale) {
  let u = BigInt(unscaled);
  const neg = u < 0n;
  if (neg) u = -u;
  let digits = u.toString().padStart(scale + 1, '0');
  const text = scale > 0 ? digits.slice(0, -scale) + '.' + digits.slice(-scale) : digits;
  return (neg ? '-' : '') + text;
}
const MS_PER_DAY = 86400000;

// ---- DuckDB: SQL turns each value into the writer's canonical text (or a JS number) ----
function duckExpr(col) {
  const c = `"${col.name}"`;
  const element = { ...col, type: col.element };
  if (col.type === 'LIST') return `list_transform(${c}, x -> ${scalarExpr(element, 'x')})`;
  if (col.type === 'MAP') return `list_transform(map_entries(${c}), e -> {'k': e.key, 'v': ${scalarExpr(element, 'e.value')}})`;
  return scalarExpr(col, c);
}
function scalarExpr(col, c) {
  switch (col.type) {
    case 'BINARY': return `lower(hex(${c}))`;
    case 'DATE': return `CAST(${c} - DATE '1970-01-01' AS VARCHAR)`;
    case 'TIME_MILLIS': return `CAST(epoch_ms(DATE '1970-01-01' + CAST(${c} AS TIME)) AS VARCHAR)`;
    case 'TIME_MICROS': return `CAST(epoch_us(DATE '1970-01-01' + CAST(${c} AS TIME)) AS VARCHAR)`;
    case 'TIMESTAMP_MILLIS': return `CAST(epoch_ms(${c}) AS VARCHAR)`;
    case 'TIMESTAMP_MICROS': case 'INT96': return `CAST(epoch_us(${c}) AS VARCHAR)`;
    case 'DECIMAL': case 'INT32': case 'INT64': case 'BOOL': return `CAST(${c} AS VARCHAR)`;
    default: return c;  // FLOAT, DOUBLE as numbers; UTF8 as text; INTERVAL as an object
  }
}
// Compares a nested value entry by entry with `match` for the element type.
function nestedMatches(col, got, want, match) {
  const element = { ...col, type: col.element };
  const entries = col.type === 'MAP' ? want.map(([k, v]) => [k, v]) : want.map((v) => [null, v]);
  if (got.length !== entries.length) return false;
  return entries.every(([k, w], i) => {
    const g = col.type === 'MAP' ? got[i][1] : got[i];
    if (col.type === 'MAP' && got[i][0] !== k) return false;
    return w === null ? g === null || g === undefined : g !== null && g !== undefined && match(element, g, w);
  });
}

function duckMatches(col, got, want) {
  if (col.type === 'MAP') return nestedMatches(col, got.map((e) => [e.k, e.v]), want, duckMatches);
  if (col.type === 'LIST') return nestedMatches(col, got, want, duckMatches);
  switch (col.type) {
    case 'FLOAT': case 'DOUBLE': return sameFloat(got, floatOf(want));
    case 'DECIMAL': return got === decimalText(want, col.scale);
    case 'INT96': return got === floorDiv(BigInt(want), 1000n).toString();  // DuckDB keeps µs
    case 'INTERVAL': {
      const [m, d, ms] = want.split(',').map(Number);
      return got.months === m && got.days === d && BigInt(got.micros) === BigInt(ms) * 1000n;
    }
    default: return got === want;
  }
}

async function checkDuckDB(entry, file) {
  const exprs = entry.columns.map(duckExpr).join(', ');
  const reader = await db.runAndReadAll(
    `SELECT ${exprs} FROM read_parquet('${file}', file_row_number=true) ORDER BY file_row_number`);
  const rows = reader.getRowsJS();
  if (rows.length !== entry.rows.length) {
    fail(entry.file, 'duckdb', '*', '-', rows.length, entry.rows.length);
    return;
  }
  rows.forEach((row, r) => entry.columns.forEach((col, c) => {
    const want = entry.rows[r][c];
    const got = row[c];
    checked++;
    if (want === null ? got !== null : got === null || !duckMatches(col, got, want)) {
      fail(entry.file, 'duckdb', col.name, r, got, want);
    }
  }));
}

// Row-group statistics as DuckDB reads them, against DuckDB's own min/max of the same rows.
async function checkStatistics(entry, file) {
  const meta = (await db.runAndReadAll(
    `SELECT row_group_id, row_group_num_rows, path_in_schema, stats_min_value, stats_max_value,
            stats_null_count FROM parquet_metadata('${file}') ORDER BY row_group_id, column_id`)).getRowsJS();
  let first = 0n;
  const groupStart = new Map();
  for (const [rg, n] of meta) {
    if (!groupStart.has(rg)) { groupStart.set(rg, first); first += BigInt(n); }
  }
  for (const [rg, n, name, min, max, nulls] of meta) {
    const col = entry.columns.find((c) => c.name === name);
    const start = groupStart.get(rg);
    if (!col) {  // a LIST/MAP leaf: min/max of its non-null entries
      await checkNestedStatistics(entry, file, name, start, n, min, max);
      continue;
    }
    const c = `"${name}"`;
    const notNan = col.type === 'FLOAT' || col.type === 'DOUBLE' ? ` AND NOT isnan(${c})` : '';
    const [[lo, hi, nullCount]] = (await db.runAndReadAll(
      `SELECT CAST(min(${c}) FILTER (WHERE true${notNan}) AS VARCHAR), CAST(max(${c}) FILTER (WHERE true${notNan}) AS VARCHAR),
              count(*) - count(${c}) FROM read_parquet('${file}', file_row_number=true)
       WHERE file_row_number >= ${start} AND file_row_number < ${start + BigInt(n)}`)).getRowsJS();
    checked++;
    if (BigInt(nulls) !== BigInt(nullCount)) fail(entry.file, 'stats', name, `group ${rg} null_count`, nulls, nullCount);
    const expectStats = lo !== null && !['INT96', 'INTERVAL', 'FLOAT', 'DOUBLE'].includes(col.type) &&
                        !(['UTF8', 'BINARY'].includes(col.type) && Math.max(lo.length, hi.length) > 256);
    if (expectStats && (min !== lo || max !== hi)) {
      fail(entry.file, 'stats', name, `group ${rg} min/max`, [min, max], [lo, hi]);
    }
    if ((col.type === 'FLOAT' || col.type === 'DOUBLE') && min !== null && (Number(min) !== Number(lo) || Number(max) !== Number(hi))) {
      fail(entry.file, 'stats', name, `group ${rg} min/max`, [min, max], [lo, hi]);
    }
  }
}

async function checkNestedStatistics(entry, file, path, start, n, min, max) {
  const [column, , leaf] = path.split(', ');
  const col = entry.columns.find((c) => c.name === column);
  const type = leaf === 'key' ? 'UTF8' : col.element;
  if (['INT96', 'INTERVAL', 'FLOAT', 'DOUBLE'].includes(type)) return;
  const values = col.type === 'MAP' ? (leaf === 'key' ? `map_keys("${column}")` : `map_values("${column}")`) : `"${column}"`;
  const [[lo, hi]] = (await db.runAndReadAll(
    `SELECT CAST(min(v) AS VARCHAR), CAST(max(v) AS VARCHAR) FROM
       (SELECT unnest(${values}) AS v FROM read_parquet('${file}', file_row_number=true)
        WHERE file_row_number >= ${start} AND file_row_number < ${start + BigInt(n)})`)).getRowsJS();
  checked++;
  if (lo !== null && !(['UTF8', 'BINARY'].includes(type) && Math.max(lo.length, hi.length) > 256) &&
      (min !== lo || max !== hi)) {
    fail(entry.file, 'stats', path, `min/max`, [min, max], [lo, hi]);
  }
}

async function checkKeyValueMetadata(entry, file) {
  const rows = (await db.runAndReadAll(
    `SELECT decode(key), decode(value) FROM parquet_kv_metadata('${file}')`)).getRowsJS();
  const got = Object.fromEntries(rows);
  for (const [k, v] of Object.entries(entry.metadata ?? {})) {
    checked++;
    if (got[k] !== v) fail(entry.file, 'metadata', k, '-', got[k], v);
  }
  const [[createdBy]] = (await db.runAndReadAll(
    `SELECT created_by FROM parquet_file_metadata('${file}')`)).getRowsJS();
  checked++;
  if (!String(createdBy).startsWith('tablelake version ')) fail(entry.file, 'metadata', 'created_by', '-', createdBy, 'tablelake version ...');
}

// ---- hyparquet: JS values, converted by hyparquet itself ----
function hypMatches(col, got, want) {
  if (col.type === 'MAP') return nestedMatches(col, Object.entries(got), want, hypMatches);
  if (col.type === 'LIST') return nestedMatches(col, got, want, hypMatches);
  switch (col.type) {
    case 'BOOL': return got === (want === 'true');
    case 'INT32': case 'TIME_MILLIS': return got === Number(want);
    case 'INT64': case 'TIME_MICROS': return got === BigInt(want);
    case 'FLOAT': case 'DOUBLE': return sameFloat(got, floatOf(want));
    case 'UTF8': return got === want;
    case 'BINARY': return hex(got) === want;
    case 'DATE': return got.getTime() === Number(want) * MS_PER_DAY;
    case 'TIMESTAMP_MILLIS': return got.getTime() === Number(want);
    case 'TIMESTAMP_MICROS': return BigInt(got.getTime()) === floorDiv(BigInt(want), 1000n);
    case 'INT96': {  // a JS Date holds ms: hyparquet truncates the nanoseconds toward zero
      const ms = BigInt(got.getTime());
      return ms === BigInt(want) / 1000000n || ms === floorDiv(BigInt(want), 1000000n);
    }
    case 'DECIMAL': {  // hyparquet returns a JS number: equal to double precision
      const exact = Number(decimalText(want, col.scale));
      return got === exact || Math.abs(got - exact) <= Math.abs(exact) * 1e-15;
    }
    default: return false;
  }
}

async function checkHyparquet(entry, buf) {
  // hyparquet: "parquet interval not supported"
  const columns = entry.columns.filter((c) => c.type !== 'INTERVAL' &&
                                              !(['LIST', 'MAP'].includes(c.type) && c.element === 'INTERVAL'));
  if (columns.length === 0) return;
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const rows = await parquetReadObjects({ file: ab, compressors, utf8: false, columns: columns.map((c) => c.name) });
  if (rows.length !== entry.rows.length) {
    fail(entry.file, 'hyparquet', '*', '-', rows.length, entry.rows.length);
    return;
  }
  rows.forEach((row, r) => columns.forEach((col) => {
    const want = entry.rows[r][entry.columns.indexOf(col)];
    const got = row[col.name];
    checked++;
    if (want === null ? got !== null && got !== undefined : got === null || got === undefined || !hypMatches(col, got, want)) {
      fail(entry.file, 'hyparquet', col.name, r, got, want);
    }
  }));
}

// ---- parquet-wasm (arrow-rs compiled to wasm), values through apache-arrow ----
function arrowMatches(col, got, want) {
  if (col.type === 'MAP') return nestedMatches(col, [...got], want, arrowMatches);
  if (col.type === 'LIST') return nestedMatches(col, got.toArray ? [...got] : got, want, arrowMatches);
  switch (col.type) {
    case 'BOOL': return got === (want === 'true');
    case 'INT32': case 'TIME_MILLIS': return got === Number(want);
    case 'INT64': case 'TIME_MICROS': return got === BigInt(want);
    case 'FLOAT': case 'DOUBLE': return sameFloat(got, floatOf(want));
    case 'UTF8': return got === want;
    case 'BINARY': return hex(got) === want;
    case 'DATE': return got === Number(want) * MS_PER_DAY;
    case 'TIMESTAMP_MILLIS': return got === Number(want);
    case 'TIMESTAMP_MICROS': return Math.floor(got) === Number(floorDiv(BigInt(want), 1000n));
    case 'INT96': return Math.floor(got) === Number(floorDiv(BigInt(want), 1000000n));
    case 'DECIMAL': return BigInt(String(got)) === BigInt(want);
    case 'INTERVAL': {  // arrow-rs reads it as a day-time interval: days and milliseconds
      const [, d, ms] = want.split(',').map(Number);
      return got[0] === d && got[1] === ms;
    }
    default: return false;
  }
}

function checkParquetWasm(entry, buf) {
  const table = tableFromIPC(parquetWasm.readParquet(new Uint8Array(buf)).intoIPCStream());
  if (table.numRows !== entry.rows.length) {
    fail(entry.file, 'parquet-wasm', '*', '-', table.numRows, entry.rows.length);
    return;
  }
  entry.columns.forEach((col, c) => {
    const vector = table.getChild(col.name);
    for (let r = 0; r < entry.rows.length; r++) {
      const want = entry.rows[r][c];
      const got = vector.get(r);
      checked++;
      if (want === null ? got !== null : got === null || !arrowMatches(col, got, want)) {
        fail(entry.file, 'parquet-wasm', col.name, r, got, want);
      }
    }
  });
}

for (const entry of manifest) {
  const file = path.join(dir, entry.file);
  const buf = fs.readFileSync(file);
  for (const [name, check] of [['duckdb', () => checkDuckDB(entry, file)],
                               ['stats', () => checkStatistics(entry, file)],
                               ['metadata', () => checkKeyValueMetadata(entry, file)],
                               ['hyparquet', () => checkHyparquet(entry, buf)],
                               ['parquet-wasm', () => checkParquetWasm(entry, buf)]]) {
    try {
      await check();
    } catch (e) {
      fail(entry.file, name, '*', '-', `error: ${e.message.slice(0, 200)}`, 'a readable file');
    }
  }
}
console.log(`${manifest.length} files, ${checked} values and statistics compared, ${failures} mismatches`);
console.log(`${failures === 0 ? manifest.length : 0} passed, ${failures === 0 ? 0 : 1} failed`);
process.exit(failures === 0 ? 0 : 1);
