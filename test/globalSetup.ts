/**
 * Picks the PostgreSQL server the tests use, in this order, and says which:
 * TEST_DATABASE_URL; the server on 127.0.0.1:5432 if it answers; a `postgres` container if a
 * Docker engine is up; embedded PGlite (each test file then starts its own in memory).
 * Each test file creates its own database on that server (see libs/server/src/testing).
 */
import { execFileSync } from "node:child_process"
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

const dockerPostgres = (): { url: string; stop: () => void } | null => {
  try {
    execFileSync("docker", ["info"], { stdio: "ignore", timeout: 5_000 })
  } catch {
    return null
  }
  const id = execFileSync("docker", [
    "run",
    "-d",
    "--rm",
    "-p",
    "127.0.0.1::5432",
    "-e",
    "POSTGRES_HOST_AUTH_METHOD=trust",
    "postgres:16-alpine"
  ])
    .toString()
    .trim()
  const port = execFileSync("docker", ["port", id, "5432/tcp"]).toString().trim().split(":").pop()
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    stop: () => execFileSync("docker", ["rm", "-f", id], { stdio: "ignore" })
  }
}

export default async function setup(project: TestProject) {
  let url = process.env.TEST_DATABASE_URL?.trim() || ""
  let kind = "TEST_DATABASE_URL"
  let teardown = () => {}
  if (!url && (await answers("postgresql://postgres@127.0.0.1:5432/postgres"))) {
    url = "postgresql://postgres@127.0.0.1:5432/postgres"
    kind = "local PostgreSQL on 127.0.0.1:5432"
  }
  if (!url) {
    const container = dockerPostgres()
    if (container) {
      for (let i = 0; i < 60 && !(await answers(container.url)); i++)
        await new Promise((r) => setTimeout(r, 500))
      url = container.url
      kind = "PostgreSQL container (docker)"
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
