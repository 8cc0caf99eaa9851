/**
 * 1,000,000 one-minute bars backfilled by a real DataHub process from the built-in synthetic
 * provider (running in its sandbox, registered through the Registry like any upload) into a
 * fresh PostgreSQL database, timed from the subscription's creation to the last row committed;
 * against raw `COPY … FROM STDIN` of the very same rows into the same table, measured first.
 * Targets: committed rows/s ≥ 0.4 × COPY, and DataHub's peak RSS ≤ 300 MB during the backfill.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { barsBetween } from "@quasar/providers/synthetic"
import { DateTime, Effect } from "effect"
import Pg from "pg"
import { copyIn } from "./copyIn"
import { ADMIN_TOKEN, cpuSeconds, rssOf, sandboxCpuSeconds, startServices } from "./services"
import { note, report, withFreshDatabase } from "./support"

const BARS = 1_000_000
const MINUTE = 60_000
const SYMBOL = "SYN/USD"
const SEED = 42 // the synthetic provider's default seed

/** Bars of the benchmark's series stored in [from, to). */
const count = async (client: Pg.Client, from: number, to: number) =>
  Number(
    (
      await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM datahub.historical_data WHERE provider = 'synthetic' AND ts >= $1 AND ts < $2",
        [new Date(from), new Date(to)]
      )
    ).rows[0]?.n
  )

function* copyLines(from: number, to: number): Iterable<string> {
  let chunk = ""
  // One day of bars at a time, so the baseline holds no more in memory than DataHub does.
  for (let day = from; day < to; day += 1_440 * MINUTE) {
    for (const r of barsBetween({ seed: SEED }, SYMBOL, "1m", day, Math.min(to, day + 1_440 * MINUTE))) {
      chunk += `synthetic\t${SYMBOL}\t1m\t${new Date(r.ts).toISOString()}\t${r.open}\t${r.high}\t${r.low}\t${r.close}\t${r.volume}\t${r.vwap ?? "\\N"}\t${r.trades ?? "\\N"}\n`
      if (chunk.length >= 1 << 16) {
        yield chunk
        chunk = ""
      }
    }
  }
  if (chunk !== "") yield chunk
}

const subscribe = (datahubUrl: string, from: number) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const api = yield* HttpApiClient.make(DataHubApi, {
        baseUrl: datahubUrl,
        transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(ADMIN_TOKEN))
      })
      return yield* api.subscriptions.create({
        payload: {
          provider: "synthetic" as never,
          symbol: SYMBOL,
          timeframes: ["1m"],
          mode: "history",
          backfillFrom: DateTime.unsafeMake(from)
        }
      })
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )

await withFreshDatabase("backfill", async (url) => {
  const services = await startServices(url)
  const client = new Pg.Client({ connectionString: url })
  await client.connect()
  try {
    const to = Math.floor(Date.now() / MINUTE) * MINUTE
    const from = to - BARS * MINUTE

    // Baseline: the same rows through COPY into the same (migrated) table, then emptied again.
    const copyStarted = performance.now()
    await copyIn(
      client,
      "datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)",
      () => copyLines(from, to)
    )
    const copySeconds = (performance.now() - copyStarted) / 1000
    const copied = await count(client, from, to)
    await client.query("TRUNCATE datahub.historical_data")
    await client.query("CHECKPOINT")
    const copyRate = copied / copySeconds
    note(`COPY: ${copied} rows in ${copySeconds.toFixed(1)} s = ${Math.round(copyRate)} rows/s`)

    // The synthetic provider is registered by the Registry at start; wait until it can run.
    const started = performance.now()
    for (;;) {
      try {
        await subscribe(services.datahubUrl, from)
        break
      } catch (e) {
        if (performance.now() - started > 120_000) throw e
        await new Promise((r) => setTimeout(r, 500))
      }
    }
    const t0 = performance.now()
    const pid = services.datahub.pid ?? 0
    const cpu0 = { datahub: cpuSeconds(pid), sandboxes: sandboxCpuSeconds(pid) }
    let peakMb = 0
    // Progress is recorded only after the rows are committed, so the subscription's last stored
    // bar says when the backfill is done without counting a growing table (which would compete
    // with the writer for the database's CPU); the rows are counted once at the end.
    const lastBar = to - MINUTE
    for (;;) {
      await new Promise((r) => setTimeout(r, 100))
      peakMb = Math.max(peakMb, rssOf(pid).peakMb)
      const { rows } = await client.query<{ done: boolean }>(
        "SELECT last_bar_at >= $1 AS done FROM datahub.provider_subscription WHERE provider = 'synthetic' AND symbol = $2",
        [new Date(lastBar), SYMBOL]
      )
      if (rows[0]?.done) break
      if (performance.now() - t0 > 900_000) throw new Error("backfill stalled")
    }
    const seconds = (performance.now() - t0) / 1000
    const percent = (used: number) => Math.round((used / seconds) * 100)
    note(
      `CPU (% of one core): DataHub ${percent(cpuSeconds(pid) - cpu0.datahub)}, its sandboxes ${percent(sandboxCpuSeconds(pid) - cpu0.sandboxes)}`
    )
    const stored = await count(client, from, to)
    if (stored !== BARS) throw new Error(`the backfill stored ${stored} of the ${BARS} bars in range`)
    const rate = stored / seconds
    const ratio = Math.round((rate / copyRate) * 100) / 100
    note(`DataHub backfill: ${stored} rows in ${seconds.toFixed(1)} s = ${Math.round(rate)} rows/s`)
    note(`DataHub peak RSS during the backfill: ${peakMb} MB (target <= 300)`)
    process.stdout.write(
      `${JSON.stringify({ bench: "backfill-rss", value: peakMb, unit: "MB", baseline: 300, ratio: Math.round((peakMb / 300) * 100) / 100, target: "<= 300 MB", pass: peakMb <= 300 })}\n`
    )
    report({
      bench: "backfill",
      value: Math.round(rate),
      unit: "rows/s",
      baseline: Math.round(copyRate),
      ratio,
      target: ">= 0.4 (and DataHub peak RSS <= 300 MB)",
      pass: ratio >= 0.4 && peakMb <= 300
    })
  } finally {
    await client.end()
    await services.stop()
  }
})
