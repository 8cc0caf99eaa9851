/**
 * The ownership filter: two DataHub runners in one process share one database through the
 * cluster's SQL storage (no sockets), and each collects only the providers it owns. A runner that
 * joins takes some providers, and the first runner stops their loops; a runner that stops hands
 * its providers back.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ProviderName, Timeframe } from "@quasar/domain"
import { TestDatabase } from "@quasar/server/testing"
import { DateTime, Effect, Exit, Scope } from "effect"
import { Script } from "../collect/scripted"
import { adminClient, eventually, MINUTE } from "../collect/support"
import { PROVIDERS, quietLive, runner } from "./support"

/** A backfill slow enough to be running for the whole test. */
const slowScript = () => {
  const script = new Script()
  script.pageBars = 50
  script.pageDelayMs = 200
  return script
}

/** Subscription ids of `providers`, by provider. */
const idsOf = (byProvider: ReadonlyMap<string, number>, providers: ReadonlySet<string>) =>
  [...byProvider]
    .filter(([p]) => providers.has(p))
    .map(([, id]) => id)
    .sort((a, b) => a - b)

const sorted = (ids: ReadonlyArray<number>) => [...ids].sort((a, b) => a - b)

describe("provider ownership", () => {
  it.live(
    "each runner collects only the providers it owns; a joining runner takes some, a stopping one hands them back",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const databaseUrl = yield* TestDatabase.fresh
          const scripts = PROVIDERS.map((p): [string, Script] => [p, slowScript()])
          const a = yield* runner(databaseUrl, "runner-a", scripts, quietLive, "15 seconds")
          const client = yield* Effect.provide(adminClient, a.app)
          const from = Timeframe.barOpen("1m", Date.now() - 30 * 1_440 * MINUTE)
          const byProvider = new Map<string, number>()
          for (const provider of PROVIDERS) {
            const [sub] = yield* client.subscriptions.create({
              payload: {
                provider: ProviderName.make(provider),
                symbol: "X/USD",
                timeframes: ["1m"],
                // Live too: the LiveSupervisor opens connections of owned providers only.
                mode: "both",
                backfillFrom: DateTime.unsafeMake(from)
              }
            })
            byProvider.set(provider, sub!.id)
          }
          const all = sorted([...byProvider.values()])

          // Alone, runner A owns every provider and runs every subscription.
          yield* eventually("A owns every provider", a.owned, (o) => o.size === PROVIDERS.length)
          yield* eventually("A runs every subscription", a.running, (r) => sorted(r).join() === all.join())

          // B joins: the providers split between the two, each runs exactly its own.
          const b = yield* runner(databaseUrl, "runner-b", scripts, quietLive, "15 seconds")
          const split = yield* eventually(
            "the providers split between A and B",
            Effect.all([a.owned, b.owned]),
            ([ownedA, ownedB]) =>
              ownedA.size > 0 &&
              ownedB.size > 0 &&
              ownedA.size + ownedB.size === PROVIDERS.length &&
              [...ownedA].every((p) => !ownedB.has(p)),
            "30 seconds"
          )
          const [ownedA, ownedB] = split
          yield* eventually(
            "each runner runs the subscriptions of its own providers only",
            Effect.all([a.running, b.running]),
            ([runningA, runningB]) =>
              sorted(runningA).join() === idsOf(byProvider, ownedA).join() &&
              sorted(runningB).join() === idsOf(byProvider, ownedB).join()
          )
          // Either runner's API says who collects each subscription, and /health what it owns.
          const expectedRunner = new Map(
            PROVIDERS.map((p) => [p, ownedA.has(p) ? "runner-a:1" : "runner-b:1"] as const)
          )
          const clientB = yield* Effect.provide(adminClient, b.app)
          yield* eventually(
            "GET /subscriptions names each subscription's runner",
            clientB.subscriptions.list({ urlParams: {} }),
            (list) =>
              list.length === PROVIDERS.length &&
              list.every((s) => s.runner === expectedRunner.get(s.provider))
          )
          const status = yield* client.live.status()
          expect(status.runner).toBe("runner-a:1")
          expect(status.owners?.map((o) => [o.provider, o.runner])).toEqual(
            [...expectedRunner].sort(([x], [y]) => x.localeCompare(y))
          )
          // Each runner's live connections are those of its own providers.
          yield* eventually(
            "each runner connects only the providers it owns",
            Effect.all([client.live.status(), clientB.live.status()]),
            ([liveA, liveB]) =>
              liveA.connections
                .map((c) => c.provider)
                .sort()
                .join() === [...ownedA].sort().join() &&
              liveB.connections
                .map((c) => c.provider)
                .sort()
                .join() === [...ownedB].sort().join()
          )
          const health = yield* clientB.health.health()
          expect(health.cluster).toMatchObject({
            runner: "runner-b:1",
            mode: "cluster",
            providers: [...ownedB].sort()
          })
          expect(health.cluster?.handoffs.gained).toBeGreaterThanOrEqual(ownedB.size)
          // Both runners, with their heartbeats and what each owns, on either runner's /health.
          expect(health.cluster?.runners.map((r) => ({ runner: r.runner, providers: r.providers }))).toEqual([
            { runner: "runner-a:1", providers: [...ownedA].sort() },
            { runner: "runner-b:1", providers: [...ownedB].sort() }
          ])
          for (const r of health.cluster?.runners ?? [])
            expect(Math.abs(Date.now() - (r.lastHeartbeat ?? 0))).toBeLessThan(30_000)
          // B took its providers from A, which let them go: how long each had no owner is said.
          const gainedByB = yield* eventually(
            "B reports how long each provider it took had no owner",
            Effect.map(clientB.health.health(), (h) =>
              h.cluster?.handoffs.recent.filter((x) => x.kind === "gained")
            ),
            (gained) =>
              gained !== undefined &&
              gained.length >= ownedB.size &&
              gained.every((g) => g.unownedMs !== null)
          )
          for (const g of gainedByB ?? []) expect(g.unownedMs).toBeLessThan(15_000)
          // A owned every provider first, from nobody: nothing to measure there.
          const healthA = yield* client.health.health()
          const firstGains = healthA.cluster?.handoffs.recent
            .filter((x) => x.kind === "gained")
            .slice(0, PROVIDERS.length)
          expect(firstGains?.map((g) => g.unownedMs)).toEqual(PROVIDERS.map(() => null))
          const metrics = yield* clientB.health.metrics()
          expect(metrics).toMatch(/^quasar_cluster_unowned_seconds_count\{provider="\w+"\} 1$/m)
          expect(metrics).toMatch(/^quasar_cluster_providers_owned \d+$/m)
          expect(metrics).toMatch(/^quasar_cluster_handoffs_total\{kind="gained",provider="\w+"\} 1$/m)
          expect(metrics).toMatch(/^effect_cluster_shards /m)

          // The runs record their runner: B made runs of its own providers only.
          const runsOfB = yield* Effect.provide(
            Effect.flatMap(
              SqlClient.SqlClient,
              (sql) => sql<{ provider: string }>`
                SELECT DISTINCT provider FROM datahub.collection_runs WHERE runner = 'runner-b:1'`
            ),
            a.app
          )
          expect(runsOfB.every((r) => ownedB.has(r.provider))).toBe(true)
          // The cluster's tables are in DataHub's schema, none in `public`.
          const tables = yield* Effect.provide(
            Effect.flatMap(
              SqlClient.SqlClient,
              (sql) => sql<{ name: string }>`
                SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
                WHERE table_name LIKE 'cluster\_%' ORDER BY 1`
            ),
            a.app
          )
          expect(tables.map((t) => t.name)).toEqual([
            "datahub.cluster_locks",
            "datahub.cluster_messages",
            "datahub.cluster_migrations",
            "datahub.cluster_replies",
            "datahub.cluster_runners"
          ])

          // A stops gracefully: B takes every provider.
          yield* Scope.close(a.scope, Exit.void)
          yield* eventually(
            "B owns every provider",
            b.owned,
            (o) => o.size === PROVIDERS.length,
            "20 seconds"
          )
          yield* eventually("B runs every subscription", b.running, (r) => sorted(r).join() === all.join())
          yield* eventually(
            "B connects every provider",
            clientB.live.status(),
            (live) =>
              live.connections
                .map((c) => c.provider)
                .sort()
                .join() === [...PROVIDERS].sort().join()
          )
          yield* Scope.close(b.scope, Exit.void)
        })
      ),
    90_000
  )
})
