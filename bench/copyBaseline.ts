/**
 * The live benchmarks' baseline: raw `COPY … FROM STDIN` (bench/copyIn.ts) of 200,000 rows into a
 * table shaped like `live_data` (same columns and primary key), best of two rounds.
 */
import type Pg from "pg"
import { copyIn } from "./copyIn"

const COPY_SERIES = 2_000
const COPY_PER_SERIES = 100

function* copyLines(): Iterable<string> {
  let chunk = ""
  for (let s = 0; s < COPY_SERIES; s++)
    for (let i = 0; i < COPY_PER_SERIES; i++) {
      const p = 100 + s + (i % 17) * 0.25
      const ts = new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString()
      chunk += `kraken\tS${s}/USD\t1m\t${ts}\t${p}\t${p + 1}\t${p - 1}\t${p + 0.5}\t${1 + (i % 7)}\t${p}\t${i % 97}\n`
      if (chunk.length >= 1 << 16) {
        yield chunk
        chunk = ""
      }
    }
  if (chunk !== "") yield chunk
}

/** Raw COPY into a table like live_data (same columns and primary key), best of two rounds. */
export const copyRowsPerSec = async (client: Pg.Client) => {
  const times: Array<number> = []
  for (let round = 0; round < 2; round++) {
    await client.query("DROP TABLE IF EXISTS copy_baseline")
    await client.query(
      "CREATE TABLE copy_baseline (LIKE datahub.live_data INCLUDING DEFAULTS INCLUDING INDEXES)"
    )
    await client.query("CHECKPOINT")
    const started = performance.now()
    const columns = "(provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)"
    await copyIn(client, `copy_baseline ${columns}`, copyLines)
    times.push(performance.now() - started)
  }
  const rows = Number(
    (await client.query<{ n: string }>("SELECT count(*) AS n FROM copy_baseline")).rows[0]?.n
  )
  if (rows !== COPY_SERIES * COPY_PER_SERIES) throw new Error(`COPY stored ${rows} rows`)
  return Math.round(rows / (Math.min(...times) / 1000))
}
