/**
 * A runner that loses its database: runner B reaches PostgreSQL through a proxy the test cuts
 * (connections reset), then partitions (connections silent and new ones hanging: nothing tells
 * the server), then stalls (only the open connections go silent). After a cut or a partition B
 * stops running its providers before runner A takes them over, A then collects and streams every
 * provider, and B gets its share back once the database answers again. Sampled every 100 ms
 * throughout, no provider is ever owned by both runners at once, so no live series is written
 * by two runners.
 */
import { describe, expect, it } from "@effect/vitest"
import { ProviderName } from "@quasar/domain"
import { TcpProxy, TestDatabase } from "@quasar/server/testing"
import { Effect, Fiber, Schedule } from "effect"
import { Script } from "../collect/scripted"
import { adminClient, eventually } from "../collect/support"
import { PROVIDERS, runner, tickingLive } from "./support"

/** Production's default: the failover waits for it, so it bounds this test's length. */
const LOCK_EXPIRY = "6 seconds"

describe("a runner that loses its database", () => {
  it.live(
    "stops owning before the other takes over, never overlapping it, and gets its share back",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const databaseUrl = yield* TestDatabase.fresh
          const { proxy, url: throughProxy } = yield* TcpProxy.inFrontOf(databaseUrl)
          const scripts = PROVIDERS.map((p): [string, Script] => [p, new Script()])
          const a = yield* runner(databaseUrl, "runner-a", scripts, tickingLive, LOCK_EXPIRY)
          const client = yield* Effect.provide(adminClient, a.app)
          for (const provider of PROVIDERS)
            yield* client.subscriptions.create({
              payload: {
                provider: ProviderName.make(provider),
                symbol: "X/USD",
                timeframes: ["1m"],
                mode: "live"
              }
            })
          yield* eventually(
            "A owns every provider",
            a.owned,
            (o) => o.size === PROVIDERS.length,
            "20 seconds"
          )
          const b = yield* runner(throughProxy, "runner-b", scripts, tickingLive, LOCK_EXPIRY)
          const split = Effect.all([a.owned, b.owned])
          const isSplit = ([ownedA, ownedB]: readonly [ReadonlySet<string>, ReadonlySet<string>]) =>
            ownedA.size > 0 && ownedB.size > 0 && ownedA.size + ownedB.size === PROVIDERS.length
          yield* eventually("the providers split between A and B", split, isSplit, "30 seconds")

          // Both runners' own view, every 100 ms, to the end of the test.
          const overlaps: Array<string> = []
          const sampler = yield* split.pipe(
            Effect.tap(([ownedA, ownedB]) => {
              const both = [...ownedA].filter((p) => ownedB.has(p))
              if (both.length > 0) overlaps.push(`${new Date().toISOString()} ${both.join(",")}`)
            }),
            Effect.repeat(Schedule.spaced("100 millis")),
            Effect.fork
          )
          const aloneOnA = Effect.all([a.owned, b.owned, client.live.status()]).pipe(
            Effect.map(([ownedA, ownedB, live]) => ({
              a: ownedA.size,
              b: ownedB.size,
              connected: live.connections.map((c) => c.provider).sort()
            }))
          )
          const everythingOnA = (s: { a: number; b: number; connected: Array<string> }) =>
            s.a === PROVIDERS.length && s.b === 0 && s.connected.join() === [...PROVIDERS].sort().join()

          // Cut: B's connections are reset and new ones refused.
          yield* proxy.cut
          const cutAt = Date.now()
          yield* eventually("B lets its providers go", b.owned, (o) => o.size === 0, "20 seconds")
          const bLetGoMs = Date.now() - cutAt
          yield* eventually("A collects and streams every provider", aloneOnA, everythingOnA, "30 seconds")
          const failoverMs = Date.now() - cutAt

          // The database answers B again: B rejoins and takes its share back.
          yield* proxy.restore
          yield* eventually("B gets its share back", split, isSplit, "60 seconds")

          // Partition: B's open connections go silent without closing and new ones hang; the
          // server is told nothing, so nothing B holds in a session could be trusted to end.
          yield* proxy.partition
          const partitionAt = Date.now()
          yield* eventually("B lets its providers go (partition)", b.owned, (o) => o.size === 0, "20 seconds")
          const bLetGoPartitionMs = Date.now() - partitionAt
          yield* eventually(
            "A collects and streams every provider (partition)",
            aloneOnA,
            everythingOnA,
            "30 seconds"
          )
          const partitionFailoverMs = Date.now() - partitionAt
          yield* proxy.restore
          yield* eventually("B gets its share back (partition healed)", split, isSplit, "60 seconds")

          // Stall: only the connections open now go silent; new ones work. B replaces them and
          // may keep its providers: the point is that no provider ever has two owners.
          yield* proxy.stall
          yield* Effect.sleep("8 seconds")
          yield* eventually(
            "every provider owned once (stall)",
            split,
            ([ownedA, ownedB]) => ownedA.size + ownedB.size === PROVIDERS.length
          )

          yield* Fiber.interrupt(sampler)
          expect(overlaps).toEqual([])
          // B lets go before the lock rows expire for A (a third of the expiry per refresh).
          expect(bLetGoMs).toBeLessThan(failoverMs)
          expect(bLetGoPartitionMs).toBeLessThan(partitionFailoverMs)
          console.log(
            `database loss: cut: B let go after ${bLetGoMs} ms, A ran everything after ${failoverMs} ms; partition: ${bLetGoPartitionMs} ms and ${partitionFailoverMs} ms`
          )
        })
      ),
    180_000
  )
})
