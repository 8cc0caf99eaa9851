import { expect, layer } from "@effect/vitest"
import { ProviderName } from "@quasar/domain"
import { type FakeEodhd, type FakeKraken, startFakeEodhd, startFakeKraken } from "@quasar/providers/testing"
import { SandboxAllowHosts } from "@quasar/sandbox/node"
import { TestService } from "@quasar/server/testing"
import { Chunk, Context, Duration, Effect, Layer, Logger, LogLevel, Stream } from "effect"
import { appLayer } from "../../apps/datahub/src/App"
import { ProviderPool } from "../../apps/datahub/src/sandbox/ProviderPool"
import { MemoryCatalog } from "../../apps/datahub/src/testing/MemoryCatalog"
import { client, validate } from "../../apps/datahub/test/sandbox/support"
import { BuiltinSources } from "../../apps/registry/src/BuiltinSources"
import { layer as bundledBuiltins } from "../../apps/registry/src/node/bundleBuiltins"

const HOUR = 3_600_000
const DAY = 24 * HOUR

class Fakes extends Context.Tag("test/Fakes")<
  Fakes,
  { readonly kraken: FakeKraken; readonly eodhd: FakeEodhd }
>() {
  static readonly layer = Layer.scoped(
    Fakes,
    Effect.acquireRelease(
      Effect.promise(async () => ({
        kraken: await startFakeKraken(),
        eodhd: await startFakeEodhd({ validTokens: ["relay-token"] })
      })),
      ({ kraken, eodhd }) => Effect.promise(() => Promise.all([kraken.close(), eodhd.close()]))
    )
  )
}

const allowFakes = Layer.effect(
  SandboxAllowHosts,
  Effect.map(Fakes, ({ kraken, eodhd }) => [
    { host: "127.0.0.1", port: kraken.port },
    { host: "127.0.0.1", port: eodhd.port }
  ])
)

const app = TestService.layer(
  appLayer({ callTimeout: Duration.seconds(20) }, "pool", allowFakes).pipe(
    Layer.provideMerge(MemoryCatalog.layer),
    Layer.provideMerge(Fakes.layer),
    Layer.provideMerge(bundledBuiltins)
  )
).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

/** The built-in `name` as the Registry stores it (validated, active), with its settings. */
const activate = (
  name: string,
  values: Record<string, string | number | boolean>,
  secrets: Record<string, string> = {}
) =>
  Effect.gen(function* () {
    const sources = yield* Effect.orDie(Effect.flatMap(BuiltinSources, (b) => b.load))
    const source = sources.find((s) => s.name === name)?.source ?? ""
    const { report, manifest } = yield* validate(name, source)
    expect(report.issues.filter((i) => i.severity === "error")).toEqual([])
    const catalog = yield* MemoryCatalog
    yield* catalog.putCode({ name, version: 1, status: "active", manifest, source })
    // As the Registry hands them over: secrets opened.
    yield* catalog.putSettings(name, { ...values, ...secrets })
  })

const listAssets = (name: string) =>
  Effect.flatMap(client, (c) => c.sandbox.listAssets({ path: { name: ProviderName.make(name) } }))

layer(app, { timeout: 120_000, excludeTestServices: true })(
  "built-in providers through the egress relay",
  (it) => {
    it.effect("Kraken: assets, history and a live subscription from the fake", () =>
      Effect.gen(function* () {
        const { kraken } = yield* Fakes
        yield* activate("kraken", { restUrl: kraken.restUrl, wsUrl: kraken.wsUrl })
        const symbols = (yield* listAssets("kraken")).assets.map((a) => a.symbol)
        expect(symbols).toContain("XBT/USD")

        const pool = yield* ProviderPool
        const to = Math.floor(Date.now() / HOUR) * HOUR
        const from = to - 12 * HOUR
        const chunks = yield* Stream.runCollect(
          pool.history("kraken", { symbol: "XBT/USD", timeframe: "1h", from, to })
        )
        const bars = Chunk.toArray(chunks).flatMap((c) => c.bars)
        const truth = kraken.closedBars("XBT/USD", "1h", from, to)
        expect(bars.map((b) => [b.ts, b.close])).toEqual(truth.map((b) => [b.ts, b.close]))

        const first = yield* pool.live("kraken", { symbols: ["XBT/USD"], timeframe: "1m" }).pipe(
          Stream.filter((e) => e.type === "subscribed"),
          Stream.take(1),
          Stream.runCollect,
          Effect.timeout("20 seconds")
        )
        expect(Chunk.toArray(first)).toEqual([{ type: "subscribed", symbol: "XBT/USD" }])
      })
    )

    it.effect("EODHD: assets and daily history from the fake, with its sealed token", () =>
      Effect.gen(function* () {
        const { eodhd } = yield* Fakes
        yield* activate("eodhd", { baseUrl: eodhd.baseUrl, exchanges: "US" }, { apiToken: "relay-token" })
        const symbols = (yield* listAssets("eodhd")).assets.map((a) => a.symbol)
        expect(symbols).toContain("AAPL.US")

        const pool = yield* ProviderPool
        const to = Math.floor(Date.now() / DAY) * DAY - 5 * DAY
        const from = to - 30 * DAY
        const chunks = yield* Stream.runCollect(
          pool.history("eodhd", { symbol: "AAPL.US", timeframe: "1d", from, to })
        )
        const bars = Chunk.toArray(chunks).flatMap((c) => c.bars)
        const truth = eodhd.bars("AAPL.US", "1d", from, to)
        expect(bars.length).toBeGreaterThan(0)
        expect(bars.map((b) => [b.ts, b.close])).toEqual(truth.map((b) => [b.ts, b.close]))
      })
    )
  }
)
