import { expect, layer } from "@effect/vitest"
import type { ProviderAsset, ProviderName } from "@quasar/domain"
import { SchemaState } from "@quasar/server"
import { Effect, HashMap, Layer, Logger, Option, Schedule, TestClock, TestServices } from "effect"
import * as AssetRefresh from "../src/AssetRefresh"
import { AssetsRepo } from "../src/AssetsRepo"
import * as DataHubClient from "../src/DataHubClient"
import { FakeDataHub, registryClient, registryLayer, seedCode } from "./fakeDataHub"

const provider = (name: string) => name as ProviderName
const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
type SearchParams = Parameters<AssetsRepo["Type"]["search"]>[0]
/** The derived client needs `limit` and `offset`: their defaults live on the decoding side only. */
const params = (p: Partial<SearchParams>): SearchParams => ({ limit: 50, offset: 0, ...p })

const kraken: Array<ProviderAsset> = [
  { symbol: "XBT/USD", name: "BTC/USD", assetClass: "crypto", base: "BTC", quote: "USD", exchange: "Kraken" },
  { symbol: "ETH/USD", name: "ETH/USD", assetClass: "crypto", base: "ETH", quote: "USD", exchange: "Kraken" },
  { symbol: "SOL/EUR", name: "SOL/EUR", assetClass: "crypto", base: "SOL", quote: "EUR", exchange: "Kraken" }
]

layer(registryLayer, { timeout: 120_000 })("assets", (it) => {
  it.effect(
    "refresh answers 404 for unknown code, 409 without an active version, 503 when DataHub is down",
    () =>
      Effect.gen(function* () {
        yield* ready
        const client = yield* registryClient()
        const fake = yield* FakeDataHub
        const unknown = yield* Effect.flip(client.assets.refresh({ path: { provider: provider("nosuch") } }))
        expect(unknown).toMatchObject({
          _tag: "NotFound",
          message: expect.stringContaining("no provider code named nosuch: upload its code")
        })

        yield* seedCode("uploadedonly", { status: "valid" })
        const inactive = yield* Effect.flip(
          client.assets.refresh({ path: { provider: provider("uploadedonly") } })
        )
        expect(inactive).toMatchObject({
          _tag: "Conflict",
          message: expect.stringContaining("no active version")
        })

        yield* seedCode("switchedoff", { status: "disabled" })
        const disabled = yield* Effect.flip(
          client.assets.refresh({ path: { provider: provider("switchedoff") } })
        )
        expect(disabled).toMatchObject({ _tag: "Conflict", message: expect.stringContaining("disabled") })

        yield* seedCode("barsonly", { capabilities: ["history"] })
        const noAssets = yield* Effect.flip(
          client.assets.refresh({ path: { provider: provider("barsonly") } })
        )
        expect(noAssets).toMatchObject({ _tag: "Conflict", message: expect.stringContaining("assets") })

        yield* seedCode("kraken")
        yield* fake.setListing("kraken", kraken)
        yield* fake.cut
        const down = yield* Effect.flip(client.assets.refresh({ path: { provider: provider("kraken") } }))
        yield* fake.restore
        expect(down).toMatchObject({
          _tag: "ServiceUnavailable",
          message: expect.stringContaining("DATAHUB_URL")
        })
      })
  )

  it.effect("refresh needs the admin token: 401 without, 403 with a wrong one", () =>
    Effect.gen(function* () {
      const anonymous = yield* registryClient(null)
      const wrong = yield* registryClient("not-the-token")
      const path = { provider: provider("kraken") }
      expect(yield* Effect.flip(anonymous.assets.refresh({ path }))).toMatchObject({ _tag: "Unauthorized" })
      expect(yield* Effect.flip(wrong.assets.refresh({ path }))).toMatchObject({ _tag: "Forbidden" })
    })
  )

  it.effect("refresh stores the listing, delists what disappeared and re-activates what returns", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const fake = yield* FakeDataHub
      const path = { provider: provider("kraken") }
      // A provider listing a symbol twice: the last one is kept, the other counts as rejected.
      yield* fake.setListing("kraken", [...kraken, { ...kraken[0]!, name: "Bitcoin / US dollar" }], 2)
      expect(yield* client.assets.refresh({ path })).toEqual({
        provider: "kraken",
        listed: 4,
        upserted: 3,
        delisted: 0,
        rejected: 3
      })
      const btc = yield* client.assets.search({
        urlParams: params({ q: "xbt", provider: provider("kraken") })
      })
      expect(btc.items.map((a) => [a.symbol, a.name, a.status])).toEqual([
        ["XBT/USD", "Bitcoin / US dollar", "active"]
      ])

      yield* fake.setListing("kraken", kraken.slice(1))
      expect(yield* client.assets.refresh({ path })).toMatchObject({ upserted: 2, delisted: 1, rejected: 0 })
      const active = yield* client.assets.search({
        urlParams: params({ provider: provider("kraken"), status: "active" })
      })
      expect(active.items.map((a) => a.symbol)).toEqual(["ETH/USD", "SOL/EUR"])
      const gone = yield* client.assets.search({ urlParams: params({ q: "XBT/", status: "delisted" }) })
      expect(gone.items.map((a) => [a.symbol, a.status])).toEqual([["XBT/USD", "delisted"]])

      yield* fake.setListing("kraken", kraken)
      expect(yield* client.assets.refresh({ path })).toMatchObject({ upserted: 3, delisted: 0 })
      const back = yield* client.assets.search({ urlParams: params({ q: "XBT/USD" }) })
      expect(back.items.map((a) => [a.symbol, a.status])).toEqual([["XBT/USD", "active"]])
    })
  )

  it.effect("search filters, pages, counts and puts the exact symbol first", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const fake = yield* FakeDataHub
      yield* seedCode("eodhd")
      yield* fake.setListing("eodhd", [
        {
          symbol: "AAPL.US",
          name: "Apple Inc",
          assetClass: "equity",
          exchange: "NASDAQ",
          isin: "US0378331005"
        },
        { symbol: "AAP.US", name: "Advance Auto Parts", assetClass: "equity", exchange: "NYSE" },
        { symbol: "AAP", name: "Advance Auto Parts (primary)", assetClass: "equity", exchange: "NYSE" },
        { symbol: "PINEAPPLE.US", name: "Pineapple Energy", assetClass: "equity", exchange: "NASDAQ" },
        {
          symbol: "BTC-USD.CC",
          name: "Bitcoin",
          assetClass: "crypto",
          base: "BTC",
          quote: "USD",
          exchange: "CC"
        },
        { symbol: "100%_X.US", name: "Literal wildcards", assetClass: "etf", exchange: "NYSE" }
      ])
      yield* client.assets.refresh({ path: { provider: provider("eodhd") } })
      const search = (p: Partial<SearchParams>) =>
        Effect.map(client.assets.search({ urlParams: params(p) }), (page) => page.items.map((a) => a.symbol))

      // Exact symbol, then symbols starting with q, then the rest by symbol.
      expect(yield* search({ q: "aap" })).toEqual(["AAP", "AAP.US", "AAPL.US"])
      expect(yield* search({ q: "APPLE" })).toEqual(["AAPL.US", "PINEAPPLE.US"])
      expect(yield* search({ q: "ap" })).toEqual(["AAPL.US"]) // two letters: prefix of symbol or name
      expect(yield* search({ q: "0%_x" })).toEqual(["100%_X.US"]) // LIKE wildcards match literally
      expect(yield* search({ q: "nyse" })).toEqual([])
      expect(yield* search({ exchange: "nasdaq", provider: provider("eodhd") })).toEqual([
        "AAPL.US",
        "PINEAPPLE.US"
      ])
      expect(yield* search({ assetClass: "crypto", provider: provider("eodhd") })).toEqual(["BTC-USD.CC"])
      expect(yield* search({ assetClass: "crypto", q: "usd" })).toEqual(["BTC-USD.CC", "ETH/USD", "XBT/USD"])

      const first = yield* client.assets.search({
        urlParams: params({ provider: provider("eodhd"), limit: 2 })
      })
      const second = yield* client.assets.search({
        urlParams: { provider: provider("eodhd"), limit: 2, offset: 2 }
      })
      expect([first.total, first.limit, first.offset, second.offset]).toEqual([6, 2, 0, 2])
      expect([...first.items, ...second.items].map((a) => a.symbol)).toEqual([
        "100%_X.US",
        "AAP",
        "AAP.US",
        "AAPL.US"
      ])
    })
  )

  it.effect("a page and its total agree while listings are being stored", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const repo = yield* Effect.provide(AssetsRepo, AssetsRepo.layer)
      const listing = (n: number): Array<ProviderAsset> =>
        Array.from({ length: n }, (_, i) => ({
          symbol: `R${String(i).padStart(4, "0")}/USD`,
          name: `race ${i}`
        }))
      const disagreeing: Array<string> = []
      for (let round = 0; round < 8; round++) {
        const name = provider(`race-${round}`)
        const reads = Effect.gen(function* () {
          for (let i = 0; i < 20; i++) {
            const page = yield* client.assets.search({ urlParams: params({ provider: name, limit: 50 }) })
            if (page.items.length !== Math.min(page.total, 50))
              disagreeing.push(`${name}: ${page.items.length} items of ${page.total}`)
          }
        })
        yield* Effect.all([repo.storeListing(name, listing(2_000)), reads], { concurrency: 2 })
      }
      expect(disagreeing).toEqual([])
    })
  )

  it.effect("a daily-refresh fiber refreshes each active provider that was never refreshed", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const fake = yield* FakeDataHub
      yield* seedCode("dailyco")
      yield* fake.setListing("dailyco", [{ symbol: "DAILY1", assetClass: "fx" }])
      const listed = client.assets
        .search({ urlParams: params({ provider: provider("dailyco") }) })
        .pipe(Effect.map((page) => page.total))
      expect(yield* listed).toBe(0)
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(
            AssetRefresh.scheduled({ startupDelay: 0, reconcileEvery: "1 hour" }).pipe(
              Layer.provide([DataHubClient.layer, AssetsRepo.layer])
            )
          )
          yield* listed.pipe(
            Effect.repeat({ until: (n) => n === 1, schedule: Schedule.spaced("100 millis") }),
            Effect.timeout("10 seconds")
          )
        })
      )
      // Real time: the fiber sleeps and the poll waits on the live clock, not the test clock.
    }).pipe(TestServices.provideLive)
  )

  it.effect("DataHub not up yet at start is retried soon at info; a warning only if it lasts", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const fake = yield* FakeDataHub
      yield* seedCode("lateco")
      yield* fake.setListing("lateco", [{ symbol: "LATE1", assetClass: "fx" }])
      const lines: Array<{ level: string; message: string }> = []
      let watched = "lateco"
      const capture = Logger.make(({ logLevel, message, annotations }) => {
        if (HashMap.get(annotations, "provider").pipe(Option.exists((p) => p === watched)))
          lines.push({
            level: logLevel.label,
            message: String(Array.isArray(message) ? message[0] : message)
          })
      })
      const retries = () => lines.filter((l) => l.message.startsWith("DataHub is not ready")).length
      const warnings = () => lines.filter((l) => l.level === "WARN").length
      /** Waits, in real time, for the refresh fiber's HTTP attempt to have happened. */
      const until = (done: () => boolean) =>
        TestServices.provideLive(
          Effect.sync(done).pipe(
            Effect.repeat({ until: (d) => d, schedule: Schedule.spaced("50 millis") }),
            Effect.timeout("10 seconds")
          )
        )
      const listed = client.assets
        .search({ urlParams: params({ provider: provider("lateco") }) })
        .pipe(Effect.map((page) => page.total))
      yield* fake.cut
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(
            AssetRefresh.scheduled({ startupDelay: 0, reconcileEvery: "1 hour" }).pipe(
              Layer.provide([DataHubClient.layer, AssetsRepo.layer])
            )
          ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
          // Not up at the first two attempts (5 s apart): info, no warning.
          yield* until(() => retries() === 1)
          yield* TestClock.adjust("5 seconds")
          yield* until(() => retries() === 2)
          expect(warnings()).toBe(0)
          // Up now: the next attempt (10 s later) refreshes, still without a warning.
          yield* fake.restore
          yield* TestClock.adjust("10 seconds")
          yield* until(() => lines.some((l) => l.message === "assets refreshed"))
          expect(yield* listed).toBe(1)
          expect(warnings()).toBe(0)
        })
      )
      // DataHub down for good: six quick retries at info, then one warning and the hourly retry.
      lines.length = 0
      watched = "downco"
      yield* seedCode("downco")
      yield* fake.cut
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* Layer.build(
            AssetRefresh.scheduled({ startupDelay: 0, reconcileEvery: "1 hour" }).pipe(
              Layer.provide([DataHubClient.layer, AssetsRepo.layer])
            )
          ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
          for (let attempt = 1; attempt <= 6; attempt++) {
            yield* until(() => retries() === attempt)
            expect(warnings()).toBe(0)
            yield* TestClock.adjust(`${5 * 2 ** (attempt - 1)} seconds`)
          }
          yield* until(() => warnings() === 1)
          expect(retries()).toBe(6)
        })
      )
      yield* fake.restore
    })
  )

  it.effect("search stays fast and index-backed on 50,000 assets", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const fake = yield* FakeDataHub
      const repo = yield* Effect.provide(AssetsRepo, AssetsRepo.layer)
      const words = [
        "Alpha",
        "Bravo",
        "Cedar",
        "Delta",
        "Ember",
        "Falcon",
        "Granite",
        "Harbor",
        "Indigo",
        "Juniper"
      ]
      const kinds = ["Holdings", "Group", "Industries", "Capital", "Systems", "Labs", "Partners", "Energy"]
      let seed = 42
      const next = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
        return seed >>> 16 // an LCG's low bits repeat with short periods
      }
      const letters = (n: number) =>
        Array.from({ length: n }, () => String.fromCharCode(65 + (next() % 26))).join("")
      const bulk: Array<ProviderAsset> = Array.from({ length: 50_000 }, (_, i) => ({
        symbol: `${letters(3)}${i}.XX`,
        name: `${words[next() % words.length]} ${words[next() % words.length]} ${kinds[next() % kinds.length]}`,
        assetClass: i % 10 === 0 ? "etf" : "equity",
        exchange: i % 2 === 0 ? "XNYS" : "XNAS"
      }))
      bulk[31_337] = { symbol: "QZQ", name: "Quartz Zebra Quarry", assetClass: "equity", exchange: "XNYS" }
      bulk[7] = { symbol: "QZQ7.XX", name: "Zebra Seven", assetClass: "equity", exchange: "XNAS" }
      yield* seedCode("bigco")
      yield* fake.setListing("bigco", bulk)
      const t0 = performance.now()
      const refreshed = yield* client.assets.refresh({ path: { provider: provider("bigco") } })
      const refreshMs = performance.now() - t0
      expect(refreshed).toMatchObject({ listed: 50_000, upserted: 50_000 })

      const expectSearch = (q: string, expected: ReadonlyArray<ProviderAsset>, first?: string) =>
        Effect.gen(function* () {
          const started = performance.now()
          const page = yield* client.assets.search({
            urlParams: params({ q, provider: provider("bigco"), limit: 500 })
          })
          const ms = performance.now() - started
          expect(page.total).toBe(expected.length)
          const expectedSymbols = new Set(expected.map((a) => a.symbol))
          expect(page.items.length).toBe(Math.min(500, expected.length))
          expect(page.items.filter((a) => !expectedSymbols.has(a.symbol))).toEqual([])
          if (first !== undefined) expect(page.items[0]?.symbol).toBe(first)
          const plans = yield* repo.explainSearch({ q, provider: provider("bigco"), limit: 500, offset: 0 })
          for (const plan of plans) expect(plan).not.toMatch(/Seq Scan on assets/)
          return { q, total: page.total, ms: Math.round(ms) }
        })
      const matches = (q: string) =>
        bulk.filter((a) => a.symbol.toLowerCase().includes(q) || (a.name ?? "").toLowerCase().includes(q))
      const timings = [
        yield* expectSearch("qzq", matches("qzq"), "QZQ"),
        yield* expectSearch("zebra", matches("zebra")),
        // Two letters match by prefix, of the symbol or of the name.
        yield* expectSearch(
          "QZ",
          bulk.filter((a) => a.symbol.startsWith("QZ") || a.name?.startsWith("Qz"))
        ),
        yield* expectSearch("12345", matches("12345")),
        yield* expectSearch("falcon labs", matches("falcon labs"))
      ]
      console.log(`50k assets: refresh ${Math.round(refreshMs)} ms; searches ${JSON.stringify(timings)}`)
      for (const t of timings) expect(t.ms).toBeLessThan(2_000) // a sanity bound, not a benchmark
    })
  )
})
