/**
 * `BulkCopy.copyOut` on a real server: the whole output arrives, in order, notices among it or
 * not; a consumer that stops early or a statement that fails, at once or after many rows, leaves
 * the pool usable; values go in quoted by `literal`.
 */

import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { BulkCopy, Database } from "@quasar/server"
import { TestDatabase } from "@quasar/server/testing"
import { Chunk, Effect, Layer, Stream } from "effect"

// One connection: a checkout that were never given back would hang the next statement.
const DatabaseLive = Database.layer({ poolSize: 1, applicationName: "quasar-test-bulkcopy" }).pipe(
  Layer.provide(TestDatabase.layer)
)

const text = (chunks: Chunk.Chunk<Uint8Array>) =>
  Chunk.toReadonlyArray(chunks)
    .map((c) => Buffer.from(c).toString("utf8"))
    .join("")

const ROWS = 200_000
const series = `COPY (SELECT g, g * 0.5::float8 FROM generate_series(1, ${ROWS}) AS g) TO STDOUT`

layer(DatabaseLive, { timeout: 60_000 })("BulkCopy.copyOut", (it) => {
  it.effect("streams the whole output of a COPY TO STDOUT, in order, in several chunks", () =>
    Effect.gen(function* () {
      const bulk = yield* BulkCopy.BulkCopy
      expect(bulk.available).toBe(true)
      const chunks = yield* Stream.runCollect(bulk.copyOut(series))
      expect(Chunk.size(chunks)).toBeGreaterThan(1)
      const lines = text(chunks).split("\n")
      expect(lines.length).toBe(ROWS + 1)
      expect(lines[0]).toBe("1\t0.5")
      expect(lines[ROWS - 1]).toBe(`${ROWS}\t${ROWS / 2}`)
    })
  )

  it.effect("gives the connection back when the consumer stops early or the COPY fails", () =>
    Effect.gen(function* () {
      const bulk = yield* BulkCopy.BulkCopy
      const sql = yield* SqlClient.SqlClient
      const first = yield* Stream.runCollect(bulk.copyOut(series).pipe(Stream.take(1)))
      expect(text(first).startsWith("1\t0.5\n")).toBe(true)
      const failed = yield* Effect.flip(Stream.runDrain(bulk.copyOut("COPY (SELECT 1 / 0) TO STDOUT")))
      expect(failed._tag).toBe("SqlError")
      expect(failed.message).toMatch(/division by zero/)
      const [row] = yield* sql<{ one: number }>`SELECT 1 AS one`
      expect(row?.one).toBe(1)
      const again = yield* Stream.runCollect(bulk.copyOut(series))
      expect(text(again).split("\n").length).toBe(ROWS + 1)
    })
  )

  it.effect("passes on every row around notices, and fails with the error that cuts a COPY short", () =>
    Effect.gen(function* () {
      const bulk = yield* BulkCopy.BulkCopy
      const sql = yield* SqlClient.SqlClient
      // A notice every 50,000 rows: NoticeResponse messages among the CopyData.
      yield* sql.unsafe(`CREATE OR REPLACE FUNCTION bulk_noisy(g int) RETURNS int AS $$
        BEGIN IF g % 50000 = 0 THEN RAISE NOTICE 'row %', g; END IF; RETURN g; END $$ LANGUAGE plpgsql`)
      const noisy = yield* Stream.runCollect(
        bulk.copyOut(`COPY (SELECT bulk_noisy(g) FROM generate_series(1, ${ROWS}) AS g) TO STDOUT`)
      )
      const lines = text(noisy).split("\n")
      expect(lines.length).toBe(ROWS + 1)
      expect(lines.slice(0, ROWS).every((line, i) => line === String(i + 1))).toBe(true)
      // The error comes after 150,000 rows have been sent.
      const cut = yield* Effect.flip(
        Stream.runDrain(
          bulk.copyOut(`COPY (SELECT 1 / (g - 150000) FROM generate_series(1, ${ROWS}) AS g) TO STDOUT`)
        )
      )
      expect(cut.message).toMatch(/division by zero/)
      const [row] = yield* sql<{ one: number }>`SELECT 1 AS one`
      expect(row?.one).toBe(1)
    })
  )

  it.effect("puts values in as literals that survive quotes and backslashes", () =>
    Effect.gen(function* () {
      const bulk = yield* BulkCopy.BulkCopy
      const value = `it's a \\ "test"`
      const out = yield* Stream.runCollect(
        bulk.copyOut(`COPY (SELECT ${BulkCopy.literal(value)} = '${value.replaceAll("'", "''")}') TO STDOUT`)
      )
      expect(text(out)).toBe("t\n")
    })
  )
})
