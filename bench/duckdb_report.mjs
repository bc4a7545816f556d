// The peer for scripts/bench: DuckDB runs the monthly report's aggregation over the same file:
// join with the price list, cost per row, and the report's groupings in one query.
//   node duckdb_report.mjs FILE csv|jsonl PRICES.csv
import { DuckDBInstance } from '@duckdb/node-api';

const [file, format, prices] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const conn = await inst.connect();
const source = format === 'csv' ? `read_csv('${file}', header = true)`
                                : `read_json('${file}', format = 'newline_delimited')`;
const sql = `
WITH prices AS (SELECT * FROM read_csv('${prices}', header = true)),
u AS (SELECT * FROM ${source}),
p AS (
  SELECT u.*, CAST(u.timestamp AS DATE) AS day,
    (u.input_tokens * pr.input + u.cached_input_tokens * coalesce(pr.cached_input, pr.input)
     + u.cache_write_tokens * coalesce(pr.cache_write_5m, pr.input)
     + u.cache_write_1h_tokens * coalesce(pr.cache_write_1h, pr.cache_write_5m, pr.input)
     + u.output_tokens * pr.output) / 1e6 * CASE WHEN u.service_tier = 'batch' THEN 0.5 ELSE 1 END AS cost
  FROM u JOIN prices pr USING (model)
  WHERE u.timestamp >= TIMESTAMP '2026-10-01' AND u.timestamp < TIMESTAMP '2026-11-01')
SELECT provider, model, department, "user", feature, project, day,
  count(*) AS records, sum(requests), sum(CASE WHEN status = 'error' THEN requests ELSE 0 END),
  sum(input_tokens), sum(cached_input_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens),
  sum(output_tokens), sum(cost)
FROM p
GROUP BY GROUPING SETS ((provider), (model), (department), ("user"), (feature), (project), (day), ())`;
const result = await conn.runAndReadAll(sql);
const rows = result.getRows();
const total = rows.find((r) => r.slice(0, 7).every((v) => v === null));
console.log(`duckdb: ${rows.length} groups, total cost ${total[15]}`);
