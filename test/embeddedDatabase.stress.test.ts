/**
 * Both services on the embedded database (the default with no DATABASE_URL) under concurrent
 * load: 16 clients (half of them over a link that splits their messages) mixing reads, upserts and transactions (committed and rolled back), HTTP reads
 * through both services, the DataHub's collection scheduler, and 30 subscriptions created at once
 * at a minute boundary. Afterwards every row is checked: zero errors, zero lost or stray rows.
 *
 * The DataHub runs on an accelerated clock (a minute every 2 s), so minute boundaries, backfills
 * and bar-aligned updates all happen within seconds.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { HttpServer } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ProviderName, Timeframe } from "@quasar/domain"
import { DatabaseUrl } from "@quasar/server"
import { EmbeddedPostgres } from "@quasar/server/node"
import { TestService } from "@quasar/server/testing"
import { Context, DateTime, Duration, Effect, Fiber, Layer, Logger, LogLevel, Redacted } from "effect"
import Pg from "pg"
import { appLayer } from "../apps/datahub/src/App"
import { CollectionConfig } from "../apps/datahub/src/collect/CollectionConfig"
import { inProcessBarSource, inProcessLiveSource } from "../apps/datahub/src/testing/InProcessSources"
import { MemoryCatalog } from "../apps/datahub/src/testing/MemoryCatalog"
import { Script, scriptedProvider } from "../apps/datahub/test/collect/scripted"
import {
  acceleratedClock,
  adminClient,
  eventually,
  MINUTE,
  storedBars,
  testConfig
} from "../apps/datahub/test/collect/support"
import { RegistryLive as RegistryApp } from "../apps/registry/src/App"
import { slowLink } from "./support/slowLink"

const CLIENTS = 16
const ROUNDS = 40
const SUBSCRIPTIONS = 30
const SPEED = 30

/** What went wrong anywhere, as log lines: the services' errors and the front's warnings. */
const problems: Array<string> = []
const recordAtLeast = (level: LogLevel.LogLevel) =>
  Logger.add(
    Logger.make(({ logLevel, message, annotations }) => {
      if (LogLevel.greaterThanEqual(logLevel, level)) {
        problems.push(`${logLevel.label} ${JSON.stringify(message)} ${JSON.stringify([...annotations])}`)
      }
    })
  )

const noteOf = (c: number, i: number) => `${c}:${i}:`.padEnd(96_000, String.fromCharCode(97 + ((c + i) % 26)))

/**
 * One client's work: upserts of its own keys, reads that must see its last write, transactions
 * that commit (12 parameters) and transactions that change everything of its own and roll back.
 * Returns what the tables must hold for it afterwards.
 */
const clientLoad = async (url: string, c: number) => {
  const client = new Pg.Client({ connectionString: url })
  await client.connect()
  const kv = new Map<string, number>()
  const log: Array<number> = []
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const key = `c${c}:k${i % 5}`
      switch (i % 4) {
        case 0:
          await client.query(
            "INSERT INTO stress_kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
            [key, i]
          )
          kv.set(key, i)
          // Outside a transaction too, a Bind big enough to reach the server in several reads.
          await client.query("INSERT INTO stress_note (client, seq, note) VALUES ($1, $2, $3)", [
            c,
            i,
            noteOf(c, i)
          ])
          break
        case 1: {
          const read = await client.query<{ v: number }>("SELECT v FROM stress_kv WHERE k = $1", [key])
          const expected = kv.get(key)
          const seen = read.rows[0]?.v
          if (seen !== expected) throw new Error(`client ${c} read ${seen} for ${key}, wrote ${expected}`)
          break
        }
        case 2: {
          await client.query("BEGIN")
          // A note big enough that its Bind message reaches the server in several TCP reads.
          const values = [c, i, ...Array.from({ length: 10 }, (_, j) => i * 100 + j), noteOf(c, i)]
          await client.query(
            `INSERT INTO stress_log (client, seq, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
            values
          )
          await client.query(
            "INSERT INTO stress_kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
            [`c${c}:committed`, i]
          )
          await client.query("COMMIT")
          log.push(i)
          kv.set(`c${c}:committed`, i)
          break
        }
        default: {
          await client.query("BEGIN")
          await client.query("INSERT INTO stress_log (client, seq) VALUES ($1, $2)", [c, -i])
          await client.query("UPDATE stress_kv SET v = -1 WHERE k LIKE $1", [`c${c}:%`])
          const inside = await client.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM stress_kv WHERE k LIKE $1 AND v <> -1",
            [`c${c}:%`]
          )
          if (inside.rows[0]!.n !== 0)
            throw new Error(`client ${c} does not see its own update in its transaction`)
          await client.query("ROLLBACK")
        }
      }
    }
  } finally {
    await client.end()
  }
  return { kv, log }
}

/** Reads through both services' HTTP APIs while the load runs; every answer must be a 200. */
const httpReads = async (registry: string, datahub: string, rounds: number) => {
  const statuses: Array<string> = []
  for (let i = 0; i < rounds; i++) {
    for (const url of [
      `${registry}/mappings`,
      `${datahub}/subscriptions`,
      `${registry}/health`,
      `${datahub}/health`
    ]) {
      const response = await fetch(url, { headers: { authorization: `Bearer ${TestService.ADMIN_TOKEN}` } })
      const body = await response.text()
      statuses.push(response.status === 200 ? "200" : `${response.status} ${url} ${body.slice(0, 300)}`)
    }
  }
  return statuses
}

describe("the embedded database under both services' concurrent load", () => {
  it.live(
    "16 clients, HTTP reads, the scheduler and 30 subscriptions at a minute boundary: zero errors, every row there",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const dataDir = mkdtempSync(join(tmpdir(), "quasar-stress-"))
          yield* Effect.addFinalizer(() =>
            Effect.sync(() => rmSync(dataDir, { recursive: true, force: true }))
          )
          const served = yield* EmbeddedPostgres.serve(dataDir, 0).pipe(
            Effect.provide(recordAtLeast(LogLevel.Warning))
          )
          const url = Redacted.value(EmbeddedPostgres.urlFor(served.port, served.password))
          const database = Layer.succeed(DatabaseUrl, { url: Redacted.make(url), embedded: true })

          const { clock, now } = acceleratedClock(SPEED)
          const script = new Script()
          // The DataHub as it runs on the embedded database (no COPY), its scheduler on the fast clock.
          const datahub = yield* Layer.build(
            TestService.layer(
              appLayer({}, "external")
                .pipe(Layer.provideMerge(MemoryCatalog.layer))
                .pipe(
                  Layer.provide(inProcessBarSource([scriptedProvider("scripted", script)], {}, now)),
                  Layer.provide(inProcessLiveSource([])),
                  Layer.provide(Layer.succeed(CollectionConfig, testConfig({ clock, marginMs: 500 })))
                ),
              database
            ).pipe(
              Layer.provide(recordAtLeast(LogLevel.Error)),
              Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
            )
          )
          const client = yield* Effect.provide(adminClient, datahub)
          const registryUrl = yield* TestService.start(RegistryApp, database).pipe(
            Effect.provide(recordAtLeast(LogLevel.Error))
          )
          const { address } = Context.get(datahub, HttpServer.HttpServer)
          const datahubUrl = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""

          yield* Effect.promise(async () => {
            const setup = new Pg.Client({ connectionString: url })
            await setup.connect()
            await setup.query(`CREATE TABLE stress_kv (k text PRIMARY KEY, v int NOT NULL);
              CREATE TABLE stress_log (client int NOT NULL, seq int NOT NULL, a0 int, a1 int, a2 int, a3 int,
                a4 int, a5 int, a6 int, a7 int, a8 int, a9 int, note text, PRIMARY KEY (client, seq));
              CREATE TABLE stress_note (client int NOT NULL, seq int NOT NULL, note text NOT NULL, PRIMARY KEY (client, seq))`)
            await setup.end()
          })

          // Half the clients reach the database through a link that delivers their messages in
          // pieces, so one connection's sequences arrive over many reads amid the others'.
          const slow = yield* Effect.acquireRelease(
            Effect.promise(() => slowLink(served.port)),
            (link) => Effect.promise(link.close)
          )
          const slowUrl = Redacted.value(EmbeddedPostgres.urlFor(slow.port, served.password))

          // The clients start now and are still busy when the minute turns.
          const load = Effect.promise(() =>
            Promise.all(Array.from({ length: CLIENTS }, (_, c) => clientLoad(c % 2 === 0 ? url : slowUrl, c)))
          )
          const loadFiber = yield* Effect.fork(load)
          const readsFiber = yield* Effect.fork(Effect.promise(() => httpReads(registryUrl, datahubUrl, 10)))

          const untilBoundary = (MINUTE - (now() % MINUTE)) / SPEED
          yield* Effect.sleep(Duration.millis(untilBoundary))
          const boundary = Timeframe.barOpen("1m", now())
          const from = boundary - 3 * 60 * MINUTE
          const symbols = Array.from(
            { length: SUBSCRIPTIONS },
            (_, n) => `STRESS${String(n).padStart(2, "0")}`
          )
          const created = yield* Effect.forEach(
            symbols,
            (symbol) =>
              client.subscriptions.create({
                payload: {
                  provider: ProviderName.make("scripted"),
                  symbol,
                  timeframes: ["1m"],
                  mode: "history",
                  backfillFrom: DateTime.unsafeMake(from)
                }
              }),
            { concurrency: "unbounded" }
          )
          expect(created.flat()).toHaveLength(SUBSCRIPTIONS)

          // Every subscription backfilled and then collected at least one bar-aligned update.
          const all = yield* eventually(
            "every subscription is current past the boundary",
            client.subscriptions.list({ urlParams: {} }),
            (subs) =>
              subs.length === SUBSCRIPTIONS &&
              subs.every(
                (s) =>
                  s.state.status === "current" &&
                  s.state.lastBarAt !== null &&
                  DateTime.toEpochMillis(s.state.lastBarAt) >= boundary
              ),
            "40 seconds"
          )
          const results = yield* Fiber.join(loadFiber)
          const statuses = yield* Fiber.join(readsFiber)
          expect(statuses.filter((s) => s !== "200")).toEqual([])
          expect(statuses).toHaveLength(40)

          // Every bar of every series, exactly as the provider serves it, from the start of the
          // backfill to the last bar stored (the scheduler may have collected more meanwhile).
          for (const sub of all) {
            expect(sub.state.lastError).toBeNull()
            const stored = yield* Effect.provide(storedBars("scripted", sub.symbol, "1m"), datahub)
            const lastStored = stored.at(-1)?.ts ?? 0
            expect(lastStored).toBeGreaterThanOrEqual(DateTime.toEpochMillis(sub.state.lastBarAt!))
            const truth = script.truth(sub.symbol, "1m", from, lastStored + MINUTE)
            expect(
              stored.map((b) => b.ts),
              sub.symbol
            ).toEqual(truth.map((b) => b.ts))
            expect(
              stored.map((b) => b.close),
              sub.symbol
            ).toEqual(truth.map((b) => b.close))
          }

          // Every client's rows: the last committed value of each key, every committed log row,
          // nothing of a rolled-back transaction.
          const rows = yield* Effect.promise(async () => {
            const check = new Pg.Client({ connectionString: url })
            await check.connect()
            const kv = (await check.query<{ k: string; v: number }>("SELECT k, v FROM stress_kv ORDER BY k"))
              .rows
            const logged = (
              await check.query<{ client: number; seq: number; a9: number | null; note: string | null }>(
                "SELECT client, seq, a9, note FROM stress_log ORDER BY client, seq"
              )
            ).rows
            const notes = (
              await check.query<{ client: number; seq: number; note: string }>(
                "SELECT client, seq, note FROM stress_note ORDER BY client, seq"
              )
            ).rows
            await check.end()
            // The notes are compared, not printed: a failure shows which rows, not 96 kB each.
            return {
              kv,
              notes: notes.map(({ note, ...row }) => ({
                ...row,
                noteIntact: note === noteOf(row.client, row.seq)
              })),
              logged: logged.map(({ note, ...row }) => ({
                ...row,
                noteIntact: note === noteOf(row.client, row.seq)
              }))
            }
          })
          const expectedKv = results
            .flatMap((r) => [...r.kv.entries()])
            .map(([k, v]) => ({ k, v }))
            .sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0))
          expect(rows.kv).toEqual(expectedKv)
          const expectedLog = results.flatMap((r, c) =>
            r.log.map((seq) => ({ client: c, seq, a9: seq * 100 + 9, noteIntact: true }))
          )
          expect(rows.logged).toEqual(expectedLog)
          expect(rows.logged.length).toBe(CLIENTS * (ROUNDS / 4))
          const expectedNotes = Array.from({ length: CLIENTS }, (_, c) =>
            Array.from({ length: ROUNDS / 4 }, (_, n) => ({ client: c, seq: n * 4, noteIntact: true }))
          ).flat()
          expect(rows.notes).toEqual(expectedNotes)
          expect(problems).toEqual([])
        })
      ),
    120_000
  )
})
