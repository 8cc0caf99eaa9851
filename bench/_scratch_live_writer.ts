import { migrations } from "@quasar/migrations"
import { Database, DatabaseUrl, SchemaState } from "@quasar/server"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { BarWriter } from "../apps/datahub/src/store/BarWriter"
import { withFreshDatabase } from "./support"

await withFreshDatabase("scratch", async (url) => {
  await Effect.gen(function* () {
    yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
    const writer = yield* BarWriter
    const rows = (k: number) => Array.from({ length: 2000 }, (_, s) => ({ provider: "kraken", symbol: `S${s}/USD`, timeframe: "1m" as const, ts: 1_700_000_000_000, open: k, high: k + 1, low: k - 1, close: k, volume: k, vwap: k, trades: k }))
    for (const target of ["live", "historical"] as const) {
      const t = performance.now(); const c0 = process.cpuUsage()
      for (let k = 1; k <= 10; k++) yield* writer.write(target, rows(k))
      const ms = performance.now() - t
      const st = yield* writer.stats
      const c = process.cpuUsage(c0); console.log("cpu µs/row", Math.round((c.user + c.system) / 20000))
      console.log(target, "20000 rows in", Math.round(ms), "ms =", Math.round(20000 / ms * 1000), "rows/s; batches so far", st.batches)
    }
  }).pipe(Effect.scoped, Effect.provide(BarWriter.layer.pipe(Layer.provideMerge(SchemaState.layer(migrations)), Layer.provide(Database.layer({ poolSize: 4, applicationName: "scratch" })), Layer.provide(DatabaseUrl.layer(Redacted.make(url))), Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))), Effect.runPromise)
})
