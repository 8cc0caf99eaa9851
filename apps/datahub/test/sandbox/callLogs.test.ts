import { expect, layer } from "@effect/vitest"
import { TestService } from "@quasar/server/testing"
import { Chunk, Duration, Effect, HashMap, Layer, Logger, LogLevel, Option, Stream } from "effect"
import { appLayer } from "../../src/App"
import { ProviderPool } from "../../src/sandbox/ProviderPool"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { validate } from "./support"

const source = `import { defineProvider } from "@quasar/providers/sdk"
export default defineProvider({
  name: "calllog",
  displayName: "Call log",
  version: "1.0.0",
  timeframes: ["1m"],
  settings: {},
  listAssets: async (ctx) => {
    ctx.log.warn("from listAssets")
    return []
  },
  async *history(ctx, request) {
    ctx.log.warn("from history", { symbol: request.symbol })
    yield { bars: [] }
    yield { bars: [] }
  },
  async *live(ctx, request) {
    for (const symbol of request.symbols) {
      ctx.log.warn("from live", { symbol })
      yield { type: "subscribed", symbol }
    }
  }
})
`

/** Each provider line: its message and the caller it was logged for. */
const lines: Array<{ message: string; caller: string | undefined }> = []
const record = Logger.add(
  Logger.make(({ message, annotations }) => {
    const text = Array.isArray(message) ? message.join(" ") : String(message)
    if (!text.startsWith("from ")) return
    const caller = HashMap.get(annotations, "caller").pipe(Option.getOrUndefined)
    lines.push({ message: text, caller: typeof caller === "string" ? caller : undefined })
  })
)

const app = TestService.layer(
  appLayer({ callTimeout: Duration.seconds(10), cancelGrace: Duration.seconds(1) }, "pool").pipe(
    Layer.provideMerge(MemoryCatalog.layer)
  )
).pipe(Layer.provide(record), Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))

const MINUTE = 60_000

layer(app, { timeout: 90_000, excludeTestServices: true })("sandbox log context", (it) => {
  it.effect("each call's log lines carry that call's context, not the one that started the sandbox", () =>
    Effect.gen(function* () {
      const { report, manifest } = yield* validate("calllog", source)
      expect(report.issues).toEqual([])
      const catalog = yield* MemoryCatalog
      yield* catalog.putCode({ name: "calllog", version: 1, status: "active", manifest, source })
      const pool = yield* ProviderPool
      const to = Math.floor(Date.now() / MINUTE) * MINUTE
      // The backfill starts the sandbox and stays open while the other calls run.
      const backfill = yield* Stream.toPull(
        pool.history("calllog", { symbol: "HIST", timeframe: "1m", from: to - 100 * MINUTE, to })
      )
      yield* backfill.pipe(Effect.annotateLogs({ caller: "backfill" }))
      const live = yield* Stream.runCollect(
        pool.live("calllog", { symbols: ["L1", "L2"], timeframe: "1m" }).pipe(Stream.take(2))
      ).pipe(Effect.annotateLogs({ caller: "live" }))
      expect(Chunk.size(live)).toBe(2)
      yield* pool.listAssets("calllog").pipe(Effect.annotateLogs({ caller: "assets" }))
      yield* backfill.pipe(Effect.annotateLogs({ caller: "backfill" }))
      expect(lines).toEqual([
        { message: "from history", caller: "backfill" },
        { message: "from live", caller: "live" },
        { message: "from live", caller: "live" },
        { message: "from listAssets", caller: "assets" }
      ])
    }).pipe(Effect.scoped)
  )
})
