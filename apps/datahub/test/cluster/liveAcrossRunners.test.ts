/**
 * Any runner serves `/live`: a client connected to one runner receives the bars of a series that
 * another runner collects (through PostgreSQL, LiveFanout), and only the owner of a provider has
 * a connection to it, so no two runners write one live series.
 */
import { describe, expect, it } from "@effect/vitest"
import { ProviderName } from "@quasar/domain"
import { TestDatabase } from "@quasar/server/testing"
import { Effect } from "effect"
import { Script } from "../collect/scripted"
import { adminClient, eventually } from "../collect/support"
import { connect } from "../live/liveClient"
import { PROVIDERS, runner, tickingLive } from "./support"

const SYMBOL = "X/USD"

describe("live bars across runners", () => {
  it.live(
    "a /live client on either runner receives the bars of a series the other runner collects",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const databaseUrl = yield* TestDatabase.fresh
          const scripts = PROVIDERS.map((p): [string, Script] => [p, new Script()])
          const a = yield* runner(databaseUrl, "runner-a", scripts, tickingLive, "15 seconds")
          const b = yield* runner(databaseUrl, "runner-b", scripts, tickingLive, "15 seconds")
          const client = yield* Effect.provide(adminClient, a.app)
          for (const provider of PROVIDERS)
            yield* client.subscriptions.create({
              payload: {
                provider: ProviderName.make(provider),
                symbol: SYMBOL,
                timeframes: ["1m"],
                mode: "live"
              }
            })
          const [ownedA, ownedB] = yield* eventually(
            "the providers split between A and B",
            Effect.all([a.owned, b.owned]),
            ([ownedA, ownedB]) =>
              ownedA.size > 0 && ownedB.size > 0 && ownedA.size + ownedB.size === PROVIDERS.length,
            "30 seconds"
          )
          const ofA = [...ownedA][0]!
          const ofB = [...ownedB][0]!

          // Only the owner connects to a provider: the other runner never writes its series.
          const clientB = yield* Effect.provide(adminClient, b.app)
          const [liveA, liveB] = yield* eventually(
            "each runner streams its own providers only",
            Effect.all([client.live.status(), clientB.live.status()]),
            ([liveA, liveB]) =>
              liveA.connections.length === ownedA.size && liveB.connections.length === ownedB.size
          )
          expect(liveA.connections.every((c) => ownedA.has(c.provider))).toBe(true)
          expect(liveB.connections.every((c) => ownedB.has(c.provider))).toBe(true)

          // Each runner's /live client watches a series the other runner collects.
          for (const [at, provider] of [
            [b, ofA],
            [a, ofB]
          ] as const) {
            const watcher = yield* connect(at.liveUrl)
            watcher.send({ _tag: "subscribe", provider, symbol: SYMBOL, timeframe: "1m" })
            yield* watcher.waitFor(
              `a bar of ${provider}, collected elsewhere`,
              (received) =>
                received.filter((m) => m._tag === "bar" && m.provider === provider && m.symbol === SYMBOL)
                  .length >= 3
            )
            // Only the series asked for, and its bars in the order they were sent (rising closes).
            const closes = watcher.received.flatMap((m) =>
              m._tag === "bar" ? [[m.provider, m.bar.close] as const] : []
            )
            expect(closes.every(([p]) => p === provider)).toBe(true)
            const values = closes.map(([, close]) => close)
            expect(values).toEqual([...values].sort((x, y) => x - y))
          }
        })
      ),
    90_000
  )
})
