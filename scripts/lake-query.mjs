// Runs one SQL statement with DuckDB (from tests/interop's npm packages) and prints the rows:
// as a table, or with --json as one JSON array (values in DuckDB's JSON forms).
//   node scripts/lake-query.mjs [--json] "SELECT * FROM read_parquet('lake/**/*.parquet', hive_partitioning=true)"
import { createRequire } from 'module';
const require = createRequire(new URL('../tests/interop/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const json = process.argv[2] === '--json';
const sql = process.argv[json ? 3 : 2];
const db = await (await DuckDBInstance.create(':memory:')).connect();
const rows = (await db.runAndReadAll(sql)).getRowObjectsJson();
if (json) console.log(JSON.stringify(rows));
else console.table(rows);
