/**
 * The embedded database on disk: a generated password kept owner-only in the data directory,
 * the same one after a restart, nothing under the directory open to other users, and a process
 * that joins the database reads the password from there.
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseUrl } from "@quasar/server"
import { Context, Effect, Exit, Layer, Redacted, Scope, TestClock, TestContext } from "effect"
import Pg from "pg"
import { afterAll, describe, expect, it } from "vitest"
import * as EmbeddedPostgres from "../../src/node/EmbeddedPostgres"
import { harden } from "../../src/node/embedded/credentials"

const dataDir = mkdtempSync(join(tmpdir(), "quasar-embedded-"))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

/** Every path under `dir` whose permissions let group or others in. */
const openToOthers = (dir: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  const walk = (path: string) => {
    const stat = lstatSync(path)
    if (stat.isSymbolicLink()) return
    if ((stat.mode & 0o077) !== 0) found.push(`${path} ${(stat.mode & 0o777).toString(8)}`)
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry))
  }
  walk(dir)
  return found
}

const query = async (url: string, sql: string) => {
  const client = new Pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(sql)).rows
  } finally {
    await client.end()
  }
}

const withServed = <A>(f: (served: { port: number; password: string }) => Promise<A>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(EmbeddedPostgres.serve(dataDir, 0), (served) => Effect.promise(() => f(served)))
    )
  )

const passwordFile = join(dataDir, "embedded-db.password")

describe("the embedded database's files", () => {
  let firstPassword = ""

  it("generates a password, keeps it 0600, requires it, and leaves nothing open to others", async () => {
    await withServed(async ({ port, password }) => {
      firstPassword = password
      expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(readFileSync(passwordFile, "utf8").trim()).toBe(password)
      expect(lstatSync(passwordFile).mode & 0o777).toBe(0o600)
      expect(lstatSync(dataDir).mode & 0o777).toBe(0o700)
      expect(openToOthers(dataDir)).toEqual([])

      const url = Redacted.value(EmbeddedPostgres.urlFor(port, password))
      expect(await query(url, "SELECT 1 AS one")).toEqual([{ one: 1 }])
      await query(url, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)")
      const wrong = Redacted.value(EmbeddedPostgres.urlFor(port, `${password.slice(1)}x`))
      await expect(query(wrong, "SELECT 1")).rejects.toMatchObject({ code: "28P01" })
      const none = `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`
      await expect(query(none, "SELECT 1")).rejects.toThrow()
    })
    // PGlite's files, created 0666, are closed again once it has written them on close.
    expect(openToOthers(dataDir)).toEqual([])
  }, 120_000)

  it("keeps the password across a restart and closes a password file others could read", async () => {
    chmodSync(passwordFile, 0o644)
    chmodSync(dataDir, 0o755)
    await withServed(async ({ port, password }) => {
      expect(password).toBe(firstPassword)
      expect(lstatSync(passwordFile).mode & 0o777).toBe(0o600)
      expect(openToOthers(dataDir)).toEqual([])
      const url = Redacted.value(EmbeddedPostgres.urlFor(port, password))
      expect(await query(url, "SELECT v FROM kept")).toEqual([{ v: 7 }])

      // A service that joins the served database reads the password from the data directory.
      const scope = Effect.runSync(Scope.make())
      const joined = await Effect.runPromise(
        Layer.buildWithScope(EmbeddedPostgres.layer(dataDir, port), scope).pipe(
          Effect.map((context) => Context.get(context, DatabaseUrl))
        )
      )
      expect(await query(Redacted.value(joined.url), "SELECT v FROM kept")).toEqual([{ v: 7 }])
      await Effect.runPromise(Scope.close(scope, Exit.void))
    })
  }, 120_000)

  it("refuses to join a database on the port when the data directory has no password", async () => {
    await withServed(async ({ port }) => {
      const elsewhere = mkdtempSync(join(tmpdir(), "quasar-embedded-other-"))
      try {
        const exit = await Effect.runPromiseExit(
          Effect.scoped(Layer.build(EmbeddedPostgres.layer(elsewhere, port)))
        )
        expect(Exit.isFailure(exit)).toBe(true)
        expect(String(exit)).toContain("no embedded database password")
      } finally {
        rmSync(elsewhere, { recursive: true, force: true })
      }
    })
  }, 120_000)

  it("takes the permissions off files added while it serves, every minute", async () => {
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* EmbeddedPostgres.serve(dataDir, 0)
          // What PGlite does with a new WAL segment or table while it runs.
          const added = join(dataDir, "pgdata", "added-while-serving")
          writeFileSync(added, "x")
          chmodSync(added, 0o666)
          yield* TestClock.adjust("59 seconds")
          expect(lstatSync(added).mode & 0o777).toBe(0o666)
          yield* TestClock.adjust("1 second")
          yield* Effect.yieldNow()
          expect(lstatSync(added).mode & 0o777).toBe(0o600)
          expect(openToOthers(dataDir)).toEqual([])
        })
      ).pipe(Effect.provide(TestContext.TestContext))
    )
  }, 120_000)

  it("harden closes directories to 0700 and takes group/other permissions off files", () => {
    const dir = mkdtempSync(join(tmpdir(), "quasar-harden-"))
    try {
      mkdirSync(join(dir, "sub", "deeper"), { recursive: true })
      writeFileSync(join(dir, "sub", "deeper", "file"), "x")
      chmodSync(join(dir, "sub", "deeper", "file"), 0o666)
      chmodSync(join(dir, "sub"), 0o777)
      writeFileSync(join(dir, "exec"), "x")
      chmodSync(join(dir, "exec"), 0o775)
      harden(dir)
      expect(openToOthers(dir)).toEqual([])
      expect(lstatSync(join(dir, "exec")).mode & 0o777).toBe(0o700)
      expect(lstatSync(join(dir, "sub", "deeper", "file")).mode & 0o777).toBe(0o600)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
