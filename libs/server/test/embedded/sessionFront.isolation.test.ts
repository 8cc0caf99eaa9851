/**
 * Each connection to the embedded database behaves as if it had its own session, although PGlite
 * has only one: extended-protocol sequences and transactions of different connections never
 * interleave, and whatever a departed connection leaves behind is gone before the next one runs.
 */
import { randomBytes } from "node:crypto"
import { PGlite } from "@electric-sql/pglite"
import Pg from "pg"
import { from as copyFrom } from "pg-copy-streams"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import * as SessionFront from "../../src/node/embedded/SessionFront"
import { bind, execute, firstValue, frame, parse, query, RawClient, sync } from "./rawClient"

const PASSWORD = randomBytes(32).toString("base64url")
const IDLE_HOLD_MS = 12_345

/** Timers the tests fire by hand, so "held too long" does not depend on the machine's speed. */
const armed = new Set<{ readonly millis: number; readonly fire: () => void }>()
const timer: SessionFront.Timer = (millis, fire) => {
  const entry = { millis, fire }
  armed.add(entry)
  return () => armed.delete(entry)
}
const idleHoldTimers = () => [...armed].filter((t) => t.millis === IDLE_HOLD_MS)

let db: PGlite
let front: SessionFront.SessionFront
beforeAll(async () => {
  db = await PGlite.create()
  front = await SessionFront.start({ db, password: PASSWORD, port: 0, idleHoldMillis: IDLE_HOLD_MS, timer })
}, 90_000)
afterAll(async () => {
  await front?.stop()
  await db?.close()
})
beforeEach(async () => {
  await db.exec("DROP TABLE IF EXISTS t; CREATE TABLE t (id text PRIMARY KEY)")
})

const connected = async () => {
  const client = new Pg.Client({
    host: "127.0.0.1",
    port: front.port,
    user: "postgres",
    database: "postgres",
    password: PASSWORD
  })
  await client.connect()
  return client
}

const login = () => RawClient.login(front.port, PASSWORD)

const ids = async () => (await db.query<{ id: string }>("SELECT id FROM t ORDER BY id")).rows.map((r) => r.id)

const until = async (what: string, condition: () => boolean) => {
  const deadline = Date.now() + 20_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const sumOf = (n: number) => {
  const placeholders = Array.from({ length: n }, (_, i) => `$${i + 1}::int`).join(" + ")
  return { sql: `SELECT ${placeholders} AS s`, values: Array.from({ length: n }, (_, i) => String(i + 1)) }
}

describe("connection isolation on the embedded database", () => {
  it("never interleaves two connections' extended-protocol sequences (2 and 12 parameters)", async () => {
    const a = await login()
    const b = await login()
    const two = sumOf(2)
    const twelve = sumOf(12)
    // A stops between Bind and Execute; B sends a whole sequence meanwhile.
    a.send(Buffer.concat([parse(two.sql), bind(two.values)]))
    await a.next("2")
    b.send(Buffer.concat([parse(twelve.sql), bind(twelve.values), execute(), sync()]))
    await until("B waits for the session", () => front.stats().queued === 1)
    a.send(Buffer.concat([execute(), sync()]))
    const fromA = await a.untilReady()
    const fromB = await b.untilReady()
    expect(fromA.filter((m) => m.type === "E")).toEqual([])
    expect(fromB.filter((m) => m.type === "E")).toEqual([])
    expect(firstValue(fromA)).toBe("3")
    expect(firstValue(fromB)).toBe("78")
    a.destroy()
    b.destroy()
  })

  it("answers every query of 16 pg clients with 1, 2 and 12 parameters correctly", async () => {
    const clients = await Promise.all(Array.from({ length: 16 }, connected))
    const shapes = [1, 2, 12].map(sumOf)
    const perClient = await Promise.all(
      clients.map(async (client, c) => {
        const checks: Array<boolean> = []
        for (let i = 0; i < 20; i++) {
          const shape = shapes[(c + i) % 3]!
          const row = (await client.query<{ s: number }>(shape.sql, shape.values.map(Number))).rows[0]!
          checks.push(row.s === shape.values.map(Number).reduce((x, y) => x + y, 0))
        }
        return checks
      })
    )
    const results = perClient.flat()
    expect(results.filter((ok) => !ok)).toHaveLength(0)
    expect(results).toHaveLength(16 * 20)
    await Promise.all(clients.map((c) => c.end()))
  })

  it("keeps B's statement out of A's transaction: A neither sees it nor rolls it back", async () => {
    const a = await connected()
    const b = await connected()
    await a.query("BEGIN")
    await a.query("INSERT INTO t VALUES ('a1')")
    const fromB = b.query("INSERT INTO t VALUES ('b1')")
    await until("B waits for the session", () => front.stats().queued === 1)
    expect((await a.query("SELECT id FROM t ORDER BY id")).rows).toEqual([{ id: "a1" }])
    await a.query("ROLLBACK")
    await fromB
    expect(await ids()).toEqual(["b1"])
    await Promise.all([a.end(), b.end()])
  })

  it("keeps B's failing statement from aborting A's transaction", async () => {
    const a = await connected()
    const b = await connected()
    await a.query("BEGIN")
    await a.query("INSERT INTO t VALUES ('a1')")
    const fromB = b.query("INSERT INTO t VALUES (NULL)").then(
      () => "succeeded",
      (e: Pg.DatabaseError) => e.code
    )
    await until("B waits for the session", () => front.stats().queued === 1)
    await a.query("INSERT INTO t VALUES ('a2')")
    await a.query("COMMIT")
    expect(await fromB).toBe("23502")
    expect(await ids()).toEqual(["a1", "a2"])
    await Promise.all([a.end(), b.end()])
  })

  it("rolls back the open transaction of a connection that goes away", async () => {
    const a = await login()
    a.send(query("BEGIN; INSERT INTO t VALUES ('left-behind')"))
    await a.untilReady()
    const b = await connected()
    const fromB = b.query("INSERT INTO t VALUES ('b1')")
    await until("B waits for the session", () => front.stats().queued === 1)
    a.destroy()
    await fromB
    expect(await ids()).toEqual(["b1"])
    expect(db.isInTransaction()).toBe(false)
    await b.end()
  })

  it("finishes the extended sequence a departed connection left half-way", async () => {
    const a = await login()
    a.send(Buffer.concat([parse("INSERT INTO t VALUES ($1)"), bind(["half-way"])]))
    await a.next("2")
    a.destroy()
    const b = await connected()
    expect((await b.query("SELECT $1::int * $2::int AS p", [6, 7])).rows).toEqual([{ p: 42 }])
    expect(await ids()).toEqual([])
    await b.end()
  })

  it("clears a departed connection's settings, prepared statements and cursors", async () => {
    const a = await login()
    a.send(
      query(
        "SET statement_timeout = '1234s'; PREPARE leftover AS SELECT 1; DECLARE held CURSOR WITH HOLD FOR SELECT 1"
      )
    )
    await a.untilReady()
    a.send(Buffer.concat([parse("SELECT 2", "named_left"), sync()]))
    await a.untilReady()
    a.send(frame("X"))
    await a.ended()
    const b = await connected()
    await until("A's traces are cleared", () => front.stats().connections === 1)
    const state = await b.query(
      `SELECT current_setting('statement_timeout') AS timeout,
              (SELECT count(*)::int FROM pg_prepared_statements) AS prepared,
              (SELECT count(*)::int FROM pg_cursors) AS cursors`
    )
    expect(state.rows).toEqual([{ timeout: "0", prepared: 0, cursors: 0 }])
    await b.end()
  })

  it("cuts a connection that holds the session idle in a transaction, rolls it back, and serves the next", async () => {
    const a = await connected()
    const errors: Array<Pg.DatabaseError> = []
    a.on("error", (e) => {
      errors.push(e as Pg.DatabaseError)
    })
    const b = await connected()
    await a.query("BEGIN")
    await a.query("INSERT INTO t VALUES ('idle')")
    const fromB = b.query("INSERT INTO t VALUES ('b1')")
    await until(
      "B waits and A's idle timer runs",
      () => front.stats().queued === 1 && idleHoldTimers().length === 1
    )
    for (const t of idleHoldTimers()) t.fire()
    await fromB
    await until("A hears why", () => errors.length === 1)
    expect(errors[0]!.code).toBe("25P03")
    expect(errors[0]!.message).toContain("idle in a transaction")
    expect(await ids()).toEqual(["b1"])
    await b.end()
  })

  it("refuses COPY FROM STDIN (which would take PGlite down) as a failed statement, and carries on", async () => {
    const a = await connected()
    const refused = await new Promise<Pg.DatabaseError>((resolve) => {
      const stream = a.query(copyFrom("COPY t (id) FROM STDIN"))
      stream.on("error", (e: Pg.DatabaseError) => resolve(e))
      stream.on("finish", () => resolve(new Error("COPY succeeded") as Pg.DatabaseError))
      stream.end("x\n")
    })
    expect(refused.code).toBe("0A000")
    expect(refused.message).toContain("COPY FROM STDIN is not supported by the embedded database")
    // As on PostgreSQL, the failed statement aborts the transaction it is part of.
    await a.query("BEGIN")
    await expect(a.query("copy t from stdin")).rejects.toMatchObject({ code: "0A000" })
    await expect(a.query("SELECT 1")).rejects.toMatchObject({ code: "25P02" })
    await a.query("ROLLBACK")
    expect((await a.query("SELECT 'still here' AS s")).rows).toEqual([{ s: "still here" }])
    expect(await ids()).toEqual([])
    await a.end()
  })

  it("does not cut a connection that waits for the session or is idle outside a transaction", async () => {
    const a = await connected()
    await a.query("SELECT 1")
    await until("no connection holds the session", () => front.stats().queued === 0)
    expect(idleHoldTimers()).toHaveLength(0)
    expect((await a.query("SELECT 2 AS two")).rows).toEqual([{ two: 2 }])
    await a.end()
  })
})
