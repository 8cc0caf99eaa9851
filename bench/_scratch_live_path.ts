import { Effect, Stream, Either } from "effect"
import kraken from "../libs/providers/src/kraken/provider"
import { live, makeProviderContext, providerLogger } from "../libs/providers/src/host/index"
import { connectWebSocket } from "../libs/providers/src/host/node/index"
import { startFakeKraken } from "../libs/providers/src/testing/kraken/server"
import { spawn } from "node:child_process"

const mode = process.argv[2] ?? "raw"
const N = 2000
const child = spawn(process.execPath, ["--import", "tsx", "libs/providers/src/testing/kraken/main.ts", "--pairs", String(N), "--update-ms", "500", "--batch", "--stamp"], { stdio: ["ignore", "pipe", "inherit"] })
const settings = await new Promise<{ restUrl: string; wsUrl: string }>((resolve) => { let out = ""; child.stdout.on("data", (c) => { out += c; const m = /provider settings: (\{.*\})/.exec(out); if (m) resolve(JSON.parse(m[1]!)) }) })
const symbols = Array.from({ length: N }, (_, i) => `S${String(i + 1).padStart(4, "0")}/USD`)
let events = 0
const abort = new AbortController()
const logger = Effect.runSync(providerLogger("kraken"))
const ctx = Either.getOrThrow(makeProviderContext({ provider: kraken, settings: { ...settings }, connect: connectWebSocket, logger, signal: abort.signal }))
setTimeout(() => abort.abort(), 25_000)
let cpu0 = process.cpuUsage(); let e0 = 0
setTimeout(() => { cpu0 = process.cpuUsage(); e0 = events }, 5_000)
setTimeout(() => { const c = process.cpuUsage(cpu0); const ev = events - e0; console.log(mode, "events/s", Math.round(ev / 20), "cpu µs/event", Math.round((c.user + c.system) / ev), "cpu%", Math.round((c.user + c.system) / 200000)) ; child.kill(); process.exit(0) }, 25_000)
if (mode === "raw") {
  for await (const _ of kraken.live!(ctx, { symbols, timeframe: "1m" })) events++
} else {
  await Effect.runPromise(live(kraken, ctx, { symbols, timeframe: "1m" }).pipe(Stream.runForEach(() => Effect.sync(() => { events++ }))))
}
