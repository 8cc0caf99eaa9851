/**
 * What a file of process-level tests shares: a fresh database, an admin connection to it for
 * reading what the services stored, and a data directory for their files; all gone after the file.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Exit, Scope } from "effect"
import pg from "pg"
import { afterAll, beforeAll } from "vitest"

export interface FreshDatabase {
  readonly url: string
  readonly admin: pg.Client
  readonly dataDir: string
}

export const useFreshDatabase = (dataDirPrefix: string): FreshDatabase => {
  const scope = Effect.runSync(Scope.make())
  const dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix))
  let url = ""
  let admin: pg.Client | undefined
  beforeAll(async () => {
    url = await Effect.runPromise(Scope.extend(TestDatabase.fresh, scope))
    admin = new pg.Client({ connectionString: url, application_name: "quasar-test-admin" })
    await admin.connect()
  }, 60_000)
  afterAll(async () => {
    await admin?.end().catch(() => undefined)
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(dataDir, { recursive: true, force: true })
  })
  return {
    get url() {
      return url
    },
    get admin() {
      if (admin === undefined) throw new Error("the admin connection opens in beforeAll")
      return admin
    },
    dataDir
  }
}
