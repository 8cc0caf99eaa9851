/**
 * The provider contract as one vitest suite: every provider passes it against its fake. Calls
 * go through the host's provider calls, so bar validation and error mapping are part of what
 * is proved, exactly as DataHub will run the provider.
 */
import type { ProviderFatalError } from "@quasar/domain"
import { Effect, Either, HashMap, Logger, Option, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeProviderContext } from "../host/context"
import { connectWebSocket } from "../host/node/connectWebSocket"
import { history, listAssets, live } from "../host/providerCalls"
import type {
  AssetInfo,
  Provider,
  ProviderBar,
  ProviderContext,
  Logger as SdkLogger,
  Timeframe
} from "../sdk/types"

export interface ContractFixture {
  readonly provider: Provider
  readonly settings: Readonly<Record<string, string | number | boolean>>
  /** The clock shared with the fake. */
  readonly now: () => number
  readonly timeframe: Timeframe
  /** A symbol the fake serves. */
  readonly symbol: string
  /** Spans at least two of the provider's pages. */
  readonly historyRange: { readonly from: number; readonly to: number }
  readonly expectedHistory: (
    symbol: string,
    timeframe: Timeframe,
    from: number,
    to: number
  ) => ReadonlyArray<ProviderBar>
  readonly minAssets: number
  readonly expectedAsset?: Partial<AssetInfo>
  /** `timeoutMs` must stay under two minutes (the test's own limit). */
  readonly live?: {
    readonly symbols: ReadonlyArray<string>
    readonly closedBars: number
    readonly timeoutMs: number
  }
  readonly errorCases: ReadonlyArray<{
    readonly name: string
    readonly arrange: () => void | Promise<void>
    readonly call: "history" | "listAssets"
    readonly expected: "retryable" | "fatal"
  }>
  readonly reset: () => void | Promise<void>
  readonly close: () => Promise<void>
}

interface LogLine {
  readonly message: string
  readonly reason: unknown
}

const LIVE_TEST_TIMEOUT_MS = 120_000

const barFields = ["ts", "open", "high", "low", "close", "volume", "vwap", "trades"] as const

/**
 * Expects two bar lists to be equal, showing only a few bars from the first difference:
 * vitest's diff of thousands of bars takes longer than the test timeout.
 */
const expectSameBars = (actual: ReadonlyArray<ProviderBar>, expected: ReadonlyArray<ProviderBar>) => {
  const length = Math.max(actual.length, expected.length)
  let i = 0
  while (
    i < length &&
    actual[i] &&
    expected[i] &&
    barFields.every((k) => Object.is(actual[i]![k], expected[i]![k]))
  )
    i++
  const window = (bars: ReadonlyArray<ProviderBar>) => (i < length ? bars.slice(i, i + 3) : [])
  expect(window(actual), `bars from #${i} (got ${actual.length}, expected ${expected.length})`).toEqual(
    window(expected)
  )
}

const quietLogger: SdkLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

export const providerContract = (name: string, setup: () => Promise<ContractFixture>): void => {
  describe(`provider contract: ${name}`, () => {
    let fixture: ContractFixture | undefined
    const shutdown = new AbortController()
    // Host warnings (rejected bars and events) are part of the verdict, so they are kept.
    const logs: Array<LogLine> = []
    const recorder = Logger.make<unknown, void>(({ message, annotations }) => {
      logs.push({
        message: String(message),
        reason: Option.getOrUndefined(HashMap.get(annotations, "reason"))
      })
    })
    const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
      Effect.runPromise(effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, recorder))))

    const current = (): ContractFixture => {
      if (!fixture) throw new Error(`the ${name} contract fixture did not set up`)
      return fixture
    }
    // Bad settings are a fatal error like any other, so error cases may arrange them too.
    const contextOf = (f: ContractFixture): Either.Either<ProviderContext, ProviderFatalError> =>
      makeProviderContext({
        provider: f.provider,
        settings: f.settings,
        connect: connectWebSocket,
        logger: quietLogger,
        now: f.now,
        signal: shutdown.signal
      })
    const historyOf = (f: ContractFixture) =>
      Stream.unwrap(
        Effect.map(contextOf(f), (ctx) =>
          history(f.provider, ctx, { symbol: f.symbol, timeframe: f.timeframe, ...f.historyRange })
        )
      )
    const assetsOf = (f: ContractFixture) =>
      Effect.flatMap(contextOf(f), (ctx) => listAssets(f.provider, ctx))

    beforeAll(async () => {
      fixture = await setup()
    })
    afterAll(async () => {
      shutdown.abort()
      await fixture?.close()
    })

    it("lists at least minAssets valid assets, including the expected one", async () => {
      const f = current()
      const listing = await run(assetsOf(f))
      expect(listing.assets.length).toBeGreaterThanOrEqual(f.minAssets)
      if (f.expectedAsset) expect(listing.assets).toContainEqual(expect.objectContaining(f.expectedAsset))
    })

    it("returns every bar of the history range once, in order, across pages, none rejected", async () => {
      const f = current()
      const chunks = Array.from(await run(Stream.runCollect(historyOf(f))))
      expect(chunks.flatMap((c) => c.rejected)).toEqual([])
      expect(chunks.length, "the range should span at least two pages").toBeGreaterThanOrEqual(2)
      expectSameBars(
        chunks.flatMap((c) => c.bars),
        f.expectedHistory(f.symbol, f.timeframe, f.historyRange.from, f.historyRange.to)
      )
    })

    it(
      "streams live: subscribed, then closed bars equal to history, none duplicated or rejected",
      async () => {
        const f = current()
        if (!f.live) return
        const { symbols, closedBars, timeoutMs } = f.live
        const subscribed = new Set<string>()
        const closed = new Map<string, Array<ProviderBar>>(symbols.map((s) => [s, []]))
        const enough = () => symbols.every((s) => (closed.get(s)?.length ?? 0) >= closedBars)
        logs.length = 0
        await run(
          Stream.unwrap(
            Effect.map(contextOf(f), (ctx) => live(f.provider, ctx, { symbols, timeframe: f.timeframe }))
          ).pipe(
            Stream.takeUntil((event) => {
              if (event.type === "subscribed") subscribed.add(event.symbol)
              if (event.type === "bar" && event.closed) {
                expect(subscribed.has(event.symbol), `${event.symbol} bar before subscribed`).toBe(true)
                closed.get(event.symbol)?.push(event.bar)
              }
              return enough()
            }),
            Stream.interruptAfter(timeoutMs),
            Stream.runDrain
          )
        )
        expect([...subscribed].sort()).toEqual([...symbols].sort())
        expect(logs.filter((l) => l.message.includes("rejected"))).toEqual([])
        for (const [symbol, bars] of closed) {
          expect(bars.length, `closed ${f.timeframe} bars of ${symbol}`).toBeGreaterThanOrEqual(closedBars)
          expect(new Set(bars.map((b) => b.ts)).size, `distinct closed bars of ${symbol}`).toBe(bars.length)
          expectSameBars(
            bars,
            bars.flatMap((b) => f.expectedHistory(symbol, f.timeframe, b.ts, b.ts + 1))
          )
        }
      },
      LIVE_TEST_TIMEOUT_MS
    )

    it("classifies every error case as retryable or fatal", async () => {
      const f = current()
      const outcomes: Record<string, string> = {}
      const expected: Record<string, string> = {}
      for (const errorCase of f.errorCases) {
        expected[errorCase.name] = errorCase.expected
        try {
          await errorCase.arrange()
          const call =
            errorCase.call === "history" ? Stream.runDrain(historyOf(f)) : Effect.asVoid(assetsOf(f))
          const result = await run(Effect.either(call))
          outcomes[errorCase.name] = Either.isRight(result)
            ? "succeeded"
            : result.left._tag === "ProviderFatalError"
              ? "fatal"
              : "retryable"
        } finally {
          await f.reset()
        }
      }
      expect(outcomes).toEqual(expected)
    })
  })
}
