import Pg from "pg"
const admin = new Pg.Client({ connectionString: "postgresql://postgres@127.0.0.1:5432/postgres" })
await admin.connect()
const db = "quasar_scratch_w2"
await admin.query(`DROP DATABASE IF EXISTS ${db}`)
await admin.query(`CREATE DATABASE ${db}`)
const c = new Pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:5432/${db}` })
await c.connect()
const ddl = (t: string) => `CREATE TABLE ${t} (provider text NOT NULL, symbol text NOT NULL, timeframe text NOT NULL, ts timestamptz NOT NULL,
 open double precision NOT NULL, high double precision NOT NULL, low double precision NOT NULL, close double precision NOT NULL,
 volume double precision NOT NULL, vwap double precision, trades integer, ingested_at timestamptz NOT NULL DEFAULT now(),
 PRIMARY KEY (provider, symbol, timeframe, ts)); CREATE INDEX ON ${t} USING brin (ts)`
const N = 1_000_000
const base = Date.UTC(2020, 0, 1)
type R = { provider: string; symbol: string; timeframe: string; ts: number; open: number; high: number; low: number; close: number; volume: number; vwap?: number; trades?: number }
const rows: R[] = []
for (let i = 0; i < N; i++) {
  const s = i % 10, k = Math.floor(i / 10)
  const p = 100 + Math.sin(k / 100) * 10 + s
  rows.push({ provider: "bench", symbol: `SYM${s}/USD`, timeframe: "1m", ts: base + k * 60000, open: p, high: p + 0.5, low: p - 0.5, close: p + 0.1, volume: 12.345 + k % 7, vwap: p + 0.05, trades: k % 100 })
}
class CopyIn {
  text: string; chunks: Buffer[]; cb: (e?: Error) => void; err?: Error
  constructor(text: string, chunks: Buffer[], cb: (e?: Error) => void) { this.text = text; this.chunks = chunks; this.cb = cb }
  submit(con: any) { con.query(this.text) }
  handleCopyInResponse(con: any) { for (const ch of this.chunks) con.sendCopyFromChunk(ch); con.endCopyFrom() }
  handleCommandComplete() {}
  handleReadyForQuery() { this.cb(this.err) }
  handleError(e: Error) { this.err = e }
  handleDataRow() {} handleRowDescription() {} handleEmptyQuery() {} handlePortalSuspended() {}
}
const t0 = performance.now()
await c.query(ddl("h0"))
const chunks: Buffer[] = []
let s = ""
for (const r of rows) {
  s += `${r.provider}\t${r.symbol}\t${r.timeframe}\t${new Date(r.ts).toISOString()}\t${r.open}\t${r.high}\t${r.low}\t${r.close}\t${r.volume}\t${r.vwap ?? "\\N"}\t${r.trades ?? "\\N"}\n`
  if (s.length > 65536) { chunks.push(Buffer.from(s)); s = "" }
}
chunks.push(Buffer.from(s))
const t1 = performance.now()
await new Promise<void>((res, rej) => c.query(new CopyIn("COPY h0 (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades) FROM STDIN", chunks, (e) => e ? rej(e) : res()) as any))
const t2 = performance.now()
console.log("copy encode", Math.round(t1 - t0), "copy", Math.round(t2 - t1), Math.round(N / (t2 - t0) * 1000), "rows/s")
console.log(await c.query("select count(*) from h0").then(r => r.rows))
// plain insert from unnest (no conflict)
const lit = (xs: ReadonlyArray<number | null | undefined>) => { let s = "{"; for (let i = 0; i < xs.length; i++) { if (i) s += ","; const x = xs[i]; s += x == null ? "NULL" : String(x) } return s + "}" }
await c.query(ddl("h1"))
const B = 5000
let tj = 0
const t3 = performance.now()
for (let i = 0; i < N; i += B) { const b = rows.slice(i, i + B); const a = performance.now(); const ps = [lit(b.map(r => r.ts)), lit(b.map(r => r.open)), lit(b.map(r => r.high)), lit(b.map(r => r.low)), lit(b.map(r => r.close)), lit(b.map(r => r.volume)), lit(b.map(r => r.vwap)), lit(b.map(r => r.trades))]; const syms = "{" + b.map(r => '"' + r.symbol + '"').join(",") + "}"; tj += performance.now() - a
 await c.query(`INSERT INTO h1 (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades) SELECT 'bench', s, '1m', timestamptz 'epoch' + ms * interval '1 millisecond', o, h, l, c, v, w, n FROM unnest($9::text[], $1::int8[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::int4[]) AS u(s, ms, o, h, l, c, v, w, n)`, [...ps, syms]) }
console.log("plain insert unnest", Math.round(performance.now() - t3), "js", Math.round(tj))
await c.end(); await admin.query(`DROP DATABASE ${db}`); await admin.end()
