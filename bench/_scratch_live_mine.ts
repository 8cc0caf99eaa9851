import { spawn } from "node:child_process"
import { SqlClient } from "@effect/sql"
import { migrations } from "@quasar/migrations"
import { ChangeFeed, Database, DatabaseUrl, SchemaState } from "@quasar/server"
import { Effect, Layer, Logger, LogLevel, Redacted, Stream } from "effect"
import kraken from "../libs/providers/src/kraken/provider"
import { BarWriter } from "../apps/datahub/src/store/BarWriter"
import { LiveLive } from "../apps/datahub/src/live/LiveLayer"
import { LiveSource } from "../apps/datahub/src/live/LiveSource"
import { LiveSupervisor } from "../apps/datahub/src/live/LiveSupervisor"
import { withFreshDatabase } from "./support"

const N = 2000
const child = spawn(process.execPath, ["--import", "tsx", "libs/providers/src/testing/kraken/main.ts", "--pairs", String(N), "--update-ms", process.argv[2] ?? "500", "--batch", "--stamp"], { stdio: ["ignore", "pipe", "inherit"] })
const settings = await new Promise<{ restUrl: string; wsUrl: string }>((resolve) => { let out = ""; child.stdout.on("data", (c) => { out += c; const m = /provider settings: (\{.*\})/.exec(out); if (m) resolve(JSON.parse(m[1]!)) }) })
let events = 0; let rows = 0
const stub = Layer.succeed(BarWriter, { write: (_t, r) => Effect.zipRight(Effect.sleep(10), Effect.sync(() => { rows += r.length })), flush: Effect.void, stats: Effect.die("no") })
const counting = Layer.effect(LiveSource, Effect.map(LiveSource, (s) => ({ live: (p: string, r: any) => s.live(p, r).pipe(Stream.mapChunks((c) => { events += c.length; return c })) }))).pipe(Layer.provide(LiveSource.inProcess([kraken], { kraken: settings })))
await withFreshDatabase("scratchmine", async (url) => {
  await Effect.gen(function* () {
    yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO provider_subscription (provider, symbol, timeframe, mode) SELECT 'kraken', 'S' || lpad(i::text, 4, '0') || '/USD', '1m', 'live' FROM generate_series(1, ${N}) AS i`
    yield* Effect.flatMap(LiveSupervisor, (s) => s.refresh)
    yield* Effect.sleep(5000)
    const c0 = process.cpuUsage(); const e0 = events; const r0 = rows
    yield* Effect.sleep(20000)
    const c = process.cpuUsage(c0)
    console.log("events/s", Math.round((events - e0) / 20), "rows/s", Math.round((rows - r0) / 20), "cpu µs/event", Math.round((c.user + c.system) / (events - e0)), "cpu%", Math.round((c.user + c.system) / 200000))
  }).pipe(Effect.scoped, Effect.provide(LiveLive.pipe(Layer.provide(counting), Layer.provideMerge(stub), Layer.provideMerge(ChangeFeed.layer), Layer.provideMerge(SchemaState.layer(migrations)), Layer.provideMerge(Database.layer({ poolSize: 4, applicationName: "s" })), Layer.provide(DatabaseUrl.layer(Redacted.make(url))), Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))), Effect.runPromise)
})
child.kill()
