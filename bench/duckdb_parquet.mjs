// The peer of bench/parquet_bench.cc: DuckDB, on one thread, writes the same rows to Parquet.
//   node duckdb_parquet.mjs ROWS CODEC DICTIONARY(on|off) OUT_FILE
// Prints one JSON line: {"seconds": ..., "bytes": ...}. The rows are built in memory first and
// only the COPY is timed, as the C++ side times only its writer.
import fs from 'fs';
import { createRequire } from 'module';
const require = createRequire(new URL('../tests/interop/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const [rows, codec, dictionary, out] = process.argv.slice(2);
const db = await (await DuckDBInstance.create(':memory:')).connect();
await db.run('SET threads = 1');
// The same formulas as MakeBatch in parquet_bench.cc.
await db.run(`CREATE TABLE t AS SELECT
    range AS id,
    'user' || lpad(CAST(range % 1000000 AS VARCHAR), 8, '0') AS name,
    CAST(range AS DOUBLE) * 0.25 AS amount,
    range % 3 = 0 AS flag,
    'abcdefghijabcdefghijabcdefghij' || lpad(CAST(range % 100000 AS VARCHAR), 10, '0') AS note
  FROM range(${Number(rows)})`);
const options = [`FORMAT parquet`, `COMPRESSION ${codec}`, `ROW_GROUP_SIZE 122880`];
if (dictionary === 'off') options.push('DICTIONARY_SIZE_LIMIT 0');
const start = process.hrtime.bigint();
await db.run(`COPY t TO '${out}' (${options.join(', ')})`);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ seconds, bytes: fs.statSync(out).size }));
