/**
 * Picks the PostgreSQL server the tests use, in this order, and says which:
 * TEST_DATABASE_URL; the server on 127.0.0.1:5432 if it answers; a `postgres` container if a
 * Docker engine is up; embedded PGlite (each test file then starts its own in memory).
 * Each test file creates its own database on that server (see libs/server/src/testing).
 */
import Pg from "pg"
import type { TestProject } from "vitest/node"

const answers = async (url: string) => {
  const client = new Pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 })
  try {
    await client.connect()
    await client.query("SELECT 1")
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * A throwaway PostgreSQL container, when testcontainers finds a Docker engine (none: null, at
 * once). An engine that cannot start it (no image and no registry) falls back to PGlite, saying why.
 */
const containerPostgres = async (): Promise<{ url: string; stop: () => Promise<void> } | null> => {
  const { getContainerRuntimeClient } = await import("testcontainers")
  try {
    await getContainerRuntimeClient()
  } catch {
    return null
  }
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql")
  try {
    // The `postgres` database is the admin connection: each test file creates its own from it.
    const container = await new PostgreSqlContainer("postgres:16-alpine")
      .withDatabase("postgres")
      .withUsername("postgres")
      .withPassword("postgres")
      .start()
    return { url: container.getConnectionUri(), stop: () => container.stop().then(() => undefined) }
  } catch (e) {
    process.stdout.write(`[quasar tests] the Docker engine could not start PostgreSQL: ${String(e)}\n`)
    return null
  }
}

export default async function setup(project: TestProject) {
  let url = process.env.TEST_DATABASE_URL?.trim() || ""
  let kind = "TEST_DATABASE_URL"
  let teardown: () => Promise<void> | void = () => {}
  if (!url && (await answers("postgresql://postgres@127.0.0.1:5432/postgres"))) {
    url = "postgresql://postgres@127.0.0.1:5432/postgres"
    kind = "local PostgreSQL on 127.0.0.1:5432"
  }
  if (!url) {
    const container = await containerPostgres()
    if (container) {
      url = container.url
      kind = "PostgreSQL container (testcontainers)"
      teardown = container.stop
    }
  }
  if (!url) kind = "embedded PGlite (one in-memory database per test file)"
  process.stdout.write(`[quasar tests] database: ${kind}\n`)
  project.provide("adminDatabaseUrl", url)
  return teardown
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Empty when the tests run on embedded PGlite. */
    adminDatabaseUrl: string
  }
}
