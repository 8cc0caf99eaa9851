/**
 * Shared by the benchmarks: a throw-away database on the local PostgreSQL server (or the one
 * `BENCH_ADMIN_URL` names), timing helpers, and the one-line JSON result every benchmark ends with.
 */
import Pg from "pg"

export const adminUrl = process.env.BENCH_ADMIN_URL?.trim() || "postgresql://postgres@127.0.0.1:5432/postgres"

const withAdmin = async <A>(f: (client: Pg.Client) => Promise<A>) => {
  const client = new Pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

/** Creates a uniquely named database, runs `f` with its URL and drops it whatever happens. */
export const withFreshDatabase = async <A>(prefix: string, f: (url: string) => Promise<A>): Promise<A> => {
  const name = `quasar_bench_${prefix}_${Date.now().toString(36)}`
  await withAdmin(async (c) => {
    await c.query(`CREATE DATABASE ${name}`)
    // The benchmark before may have left gigabytes of dirty buffers: written out now, rather than
    // by the checkpointer in the middle of this one's measurement. (Needs a superuser or
    // pg_checkpoint; without, the run goes on.)
    await c.query("CHECKPOINT").catch((e: unknown) => note(`no CHECKPOINT before the run: ${String(e)}`))
  })
  try {
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    return await f(url.toString())
  } finally {
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  }
}

export const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const timed = async (f: () => Promise<unknown>) => {
  const started = performance.now()
  await f()
  return performance.now() - started
}

export const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024)

export interface BenchResult {
  readonly bench: string
  readonly value: number
  readonly unit: string
  readonly baseline: number
  readonly ratio: number
  readonly target: string
  readonly pass: boolean
}

/** The benchmark's last line; `bench/run.ts` reads it. */
export const report = (result: BenchResult) => {
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

/** Logs progress to stderr so that stdout's last line stays the result. */
export const note = (message: string) => process.stderr.write(`[bench] ${message}\n`)
