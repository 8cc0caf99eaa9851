/**
 * Live streams against the fake Kraken's faults, on an accelerated clock (a 1m bar closes every
 * real second). Every case ends the same way: the closed bars in `historical_data` are counted
 * against the fake's ground truth — every bar that traded is stored (none lost), every stored
 * bar has its final values (none wrong; the primary key rules out duplicates), and the bars of
 * the outage, no-trade minutes included, came from the gap fill — and the stream is back by
 * itself. The fake sends no snapshot history on subscribing, so only the gap fill can recover
 * what an outage missed.
 */
import { describe, expect, it } from "@effect/vitest"
import { SubscriptionId } from "@quasar/domain"
import { Effect } from "effect"
import { allMatchTruth, allStoredUntil, barOpen, reconnects, SYMBOLS, setUp } from "./faultsSupport"
import { adminClient, eventually, liveStatus, MINUTE, storedBars } from "./support"

describe("live streams survive bad input from the provider without losing a closed bar", () => {
  it.live(
    "malformed frames in the stream are skipped without a reconnect or a lost bar",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { now, fake, app } = yield* setUp()
          yield* Effect.provide(allStoredUntil(barOpen(now()) + 2 * MINUTE), app)
          for (let i = 0; i < 6; i++) {
            fake.sendMalformed()
            fake.sendMalformed("}{ not json")
            fake.sendMalformed('{"channel":"ohlc","type":"update","data":"nope"}')
            fake.sendMalformed(
              '{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD","interval":1}]}'
            )
            yield* Effect.sleep(250)
          }
          const end = barOpen(now()) + 3 * MINUTE
          yield* Effect.provide(allStoredUntil(end), app)
          yield* Effect.provide(allMatchTruth(fake, end, []), app)
          expect(yield* Effect.provide(reconnects, app)).toBe(0)
        })
      ),
    60_000
  )

  it.live(
    "a symbol the provider rejects puts only its subscription in error; the others stream on",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { now, fake, app, ids } = yield* setUp({
            beforeSubscribing: (f) => f.rejectSymbol("ETH/USD")
          })
          const rejected = ids[SYMBOLS.indexOf("ETH/USD")]!
          const others = SYMBOLS.filter((s) => s !== "ETH/USD")
          const row = yield* Effect.provide(
            eventually(
              "the rejected subscription is in error",
              Effect.flatMap(adminClient, (api) =>
                api.subscriptions.get({ path: { id: SubscriptionId.make(rejected) } })
              ),
              (s) => s.state.status === "error"
            ),
            app
          )
          expect(row.state.lastError).toContain("Currency pair not supported ETH/USD")
          expect(row.state.lastError).toContain("resume the subscription")
          const end = barOpen(now()) + 4 * MINUTE
          yield* Effect.provide(allStoredUntil(end, others), app)
          yield* Effect.provide(allMatchTruth(fake, end, [], others), app)
          expect(yield* Effect.provide(storedBars("ETH/USD"), app)).toEqual([])
          const api = yield* Effect.provide(adminClient, app)
          for (const id of ids.filter((id) => id !== rejected)) {
            const sub = yield* Effect.provide(
              api.subscriptions.get({ path: { id: SubscriptionId.make(id) } }),
              app
            )
            expect(sub.state).toMatchObject({ status: "current", lastError: null })
          }
          const status = yield* Effect.provide(liveStatus, app)
          expect(status.subscriptions.map((s) => s.symbol).sort()).toEqual([...others].sort())
          expect(status.connections[0]).toMatchObject({ state: "connected", reconnects: 0 })
        })
      ),
    60_000
  )
})
