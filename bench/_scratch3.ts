import Pg from "pg"
import { copyIn } from "./copyIn"
import { upsertStatement } from "../apps/datahub/src/store/barBatch"
const admin = new Pg.Client({ connectionString: "postgresql://postgres@127.0.0.1:5432/postgres" })
await admin.connect()
const db = "quasar_scratch_w3"
await admin.query(`DROP DATABASE IF EXISTS ${db}`)
await admin.query(`CREATE DATABASE ${db}`)
const c = new Pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:5432/${db}` })
await c.connect()
const ddl = (t: string) => `CREATE TABLE ${t} (provider text NOT NULL, symbol text NOT NULL, timeframe text NOT NULL, ts timestamptz NOT NULL,
 open double precision NOT NULL, high double precision NOT NULL, low double precision NOT NULL, close double precision NOT NULL,
 volume double precision NOT NULL, vwap double precision, trades integer, ingested_at timestamptz NOT NULL DEFAULT now(),
 PRIMARY KEY (provider, symbol, timeframe, ts)); CREATE INDEX ON ${t} USING brin (ts)`
const N = 500_000
const base = Date.UTC(2020, 0, 1)
type R = { provider: string; symbol: string; timeframe: "1m"; ts: number; open: number; high: number; low: number; close: number; volume: number; vwap?: number; trades?: number }
const rows: R[] = []
for (let s = 0; s < 10; s++) for (let k = 0; k < N / 10; k++) {
  const p = 100 + Math.sin(k / 100) * 10 + s
  rows.push({ provider: "bench", symbol: `SYM${s}/USD`, timeframe: "1m", ts: base + k * 60000, open: p, high: p + 0.5, low: p - 0.5, close: p + 0.1, volume: 12.345 + k % 7, vwap: p + 0.05, trades: k % 100 })
}
// interleave pages of 1000 from 5 series per batch like the bench
const batches: R[][] = []
const B = Number(process.env.B ?? 5000)
for (let k = 0; k < N / 10; k += 1000) for (let s = 0; s < 10; s += B / 1000) { const b: R[] = []; for (let j = 0; j < B / 1000; j++) b.push(...rows.slice((s + j) * (N / 10) + k, (s + j) * (N / 10) + k + 1000)); batches.push(b) }
async function run(name: string, t: string, f: (b: R[], t: string) => Promise<unknown>) {
  await c.query(ddl(t)); await c.query("CHECKPOINT")
  const t0 = performance.now()
  for (const b of batches) await f(b, t)
  const ms = performance.now() - t0
  console.log(name, Math.round(ms), "ms", Math.round(N / ms * 1000), "rows/s")
}
await run("unnest", "historical_data", (b, t) => { const s = upsertStatement("historical", b); return c.query(s.text, [...s.params]) })
await c.query("CREATE TEMP TABLE stage (provider text, symbol text, timeframe text, ts timestamptz, open float8, high float8, low float8, close float8, volume float8, vwap float8, trades int4)")
await run("copy+merge", "h2", async (b, t) => {
  await c.query("BEGIN")
  await c.query("TRUNCATE stage")
  await copyIn(c, "stage", function* () { let s = ""; for (const r of b) s += `${r.provider}\t${r.symbol}\t${r.timeframe}\t${new Date(r.ts).toISOString()}\t${r.open}\t${r.high}\t${r.low}\t${r.close}\t${r.volume}\t${r.vwap ?? "\\N"}\t${r.trades ?? "\\N"}\n`; yield s })
  await c.query(`INSERT INTO ${t} AS t (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades) SELECT * FROM stage ON CONFLICT (provider, symbol, timeframe, ts) DO UPDATE SET open = EXCLUDED.open WHERE (t.open) IS DISTINCT FROM (EXCLUDED.open)`)
  await c.query("COMMIT")
})
await run("copy-only", "h3", async (b, t) => {
  await copyIn(c, t + " (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)", function* () { let s = ""; for (const r of b) s += `${r.provider}\t${r.symbol}\t${r.timeframe}\t${new Date(r.ts).toISOString()}\t${r.open}\t${r.high}\t${r.low}\t${r.close}\t${r.volume}\t${r.vwap ?? "\\N"}\t${r.trades ?? "\\N"}\n`; yield s })
})
await run("unnest-noconflict", "h4", (b, t) => { const s = upsertStatement("historical", b); return c.query(s.text.replace("historical_data", t).replace(/ON CONFLICT[\s\S]*$/, ""), [...s.params]) })
await c.end(); await admin.query(`DROP DATABASE ${db}`); await admin.end()
