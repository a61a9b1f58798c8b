// Runs one SQL statement with DuckDB (from tests/interop's npm packages) and prints the rows.
//   node scripts/lake-query.mjs "SELECT * FROM read_parquet('lake/**/*.parquet', hive_partitioning=true)"
import { createRequire } from 'module';
const require = createRequire(new URL('../tests/interop/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const db = await (await DuckDBInstance.create(':memory:')).connect();
const rows = (await db.runAndReadAll(process.argv[2])).getRowObjectsJson();
console.table(rows);
