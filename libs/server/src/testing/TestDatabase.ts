/**
 * A fresh database per test file on the server chosen by test/globalSetup.ts, dropped when the
 * layer closes, so files run in parallel without seeing each other's rows. On the PGlite
 * fallback each file gets its own in-memory PGlite behind the embedded session front instead.
 */
import { PGlite } from "@electric-sql/pglite"
import { Effect, Layer, Redacted } from "effect"
import Pg from "pg"
import { inject } from "vitest"
import { DatabaseUrl } from "../DatabaseUrl"
import * as SessionFront from "../node/embedded/SessionFront"

const withAdmin = <A>(adminUrl: string, f: (client: Pg.Client) => Promise<A>) =>
  Effect.promise(async () => {
    const client = new Pg.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      return await f(client)
    } finally {
      await client.end()
    }
  })

const databaseUrlFor = (adminUrl: string, name: string) => {
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

/** Creates a uniquely named database and yields its URL; drops it when the scope closes. */
export const fresh = Effect.gen(function* () {
  const adminUrl = inject("adminDatabaseUrl")
  if (adminUrl === "") return yield* embedded
  const name = `quasar_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  yield* Effect.acquireRelease(
    withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`)),
    () =>
      withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).pipe(Effect.ignore)
  )
  return databaseUrlFor(adminUrl, name)
})

const embedded = Effect.acquireRelease(
  Effect.promise(async () => {
    const db = await PGlite.create()
    // The same front as the embedded default: one connection at a time, SCRAM login.
    const password = crypto.randomUUID()
    const front = await SessionFront.start({ db, password, host: "127.0.0.1", port: 0, maxConnections: 64 })
    return { db, front, password }
  }),
  ({ db, front }) =>
    Effect.promise(async () => {
      await front.stop()
      await db.close()
    })
).pipe(
  Effect.map(
    ({ front, password }) =>
      `postgresql://postgres:${password}@127.0.0.1:${front.port}/postgres?sslmode=disable`
  )
)

/** `DatabaseUrl` for a fresh database. */
export const layer = Layer.scoped(
  DatabaseUrl,
  Effect.map(fresh, (url) => ({ url: Redacted.make(url), embedded: false }))
)
