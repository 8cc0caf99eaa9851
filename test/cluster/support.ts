/**
 * What the cluster tests share: three DataHub runner processes on one database
 * (apps/datahub/test/cluster/runnerProcess.ts, production's entry point with scripted providers),
 * 3 providers × 10 symbols subscribed for a one-day backfill, and the checks read from outside:
 * who owns what on `/health`, what each runner requested (its `REQ` lines), and every stored bar
 * against the providers' ground truth.
 */
import { Cause, Runtime } from "effect"
import { expect } from "vitest"
import { Script } from "../../apps/datahub/test/collect/scripted"
import type { FreshDatabase } from "../support/freshDatabase"
import { freePort, get, type Spawned, spawnTsx, waitFor200 } from "../support/processes"

export const MINUTE = 60_000
export const PROVIDERS = ["alpha", "bravo", "charlie"]
export const SYMBOLS = Array.from({ length: 10 }, (_, i) => `S${i}/USD`)
export const BACKFILL_DAYS = 1
export const LOCK_EXPIRY_SECONDS = 6
/** @effect/cluster's shards per group (ClusterRunner keeps the default). */
export const SHARDS = 300
/** The 1m bars one provider's backfill stores in all. */
export const BARS_PER_PROVIDER = SYMBOLS.length * BACKFILL_DAYS * 1_440

export interface RunnerPorts {
  readonly httpPort: number
  readonly clusterPort: number
}

export interface Runner {
  /** The runner's cluster address, `127.0.0.1:<port>`, as the cluster's tables name it. */
  readonly name: string
  readonly url: string
  readonly ports: RunnerPorts
  readonly process: Spawned
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** JSON shows a Map as `{}`: its entries are what a failure message needs. */
const readable = (_key: string, value: unknown) => (value instanceof Map ? Object.fromEntries(value) : value)

export const until = async <A>(
  what: string,
  probe: () => Promise<A>,
  check: (a: A) => boolean,
  ms: number
) => {
  const started = Date.now()
  let last: A | undefined
  while (Date.now() - started < ms) {
    last = await probe()
    if (check(last)) return last
    await sleep(100)
  }
  throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last, readable)})`)
}

/**
 * A runner process of `entry` (a DataHub runner's main) on `ports`, with the cluster's settings;
 * `extra` adds to its environment. The same ports again make the same runner restarted.
 */
export const spawnRunnerOf = (
  entry: string,
  env: Record<string, string>,
  ports: RunnerPorts,
  extra: Record<string, string> = {}
): Runner => {
  const name = `127.0.0.1:${ports.clusterPort}`
  const process = spawnTsx(entry, {
    ...env,
    ...extra,
    DATAHUB_PORT: String(ports.httpPort),
    QUASAR_CLUSTER_RUNNER_ADDRESS: name,
    QUASAR_CLUSTER_LOCK_EXPIRY_SECONDS: String(LOCK_EXPIRY_SECONDS),
    LOG_LEVEL: "Error"
  })
  return { name, url: `http://127.0.0.1:${ports.httpPort}`, ports, process }
}

/**
 * A runner process on `ports`, collecting the scripted providers; `extra` adds to its environment
 * (e.g. the providers' page delay). The same ports again make the same runner restarted.
 */
export const spawnRunner = (
  env: Record<string, string>,
  ports: RunnerPorts,
  extra: Record<string, string> = {}
): Runner =>
  spawnRunnerOf("apps/datahub/test/cluster/runnerProcess.ts", env, ports, {
    ...extra,
    RUNNER_PROVIDERS: PROVIDERS.join(",")
  })

/** Three runners made by `spawn`, each on ports of its own. */
export const spawnRunnersWith = (spawn: (ports: RunnerPorts) => Runner) =>
  Promise.all([0, 1, 2].map(async () => spawn({ httpPort: await freePort(), clusterPort: await freePort() })))

/** Three runners, each on ports of its own. */
export const spawnRunners = (env: Record<string, string>, extra: Record<string, string> = {}) =>
  spawnRunnersWith((ports) => spawnRunner(env, ports, extra))

/** Three runners of another entry than the scripted one, each on ports of its own. */
export const spawnRunnersOf = (entry: string, env: Record<string, string>, extra: Record<string, string>) =>
  spawnRunnersWith((ports) => spawnRunnerOf(entry, env, ports, extra))

/** The last of each runner's output, for a failure's message. */
export const logsOf = (runners: ReadonlyArray<Runner>) =>
  runners
    .map((r) => `--- ${r.name}\n${r.process.stderr().slice(-3000)}${r.process.stdout().slice(-1500)}`)
    .join("\n")

/** Named moments of a test, in seconds from its start. */
const timeline = () => {
  const t0 = Date.now()
  const phases: Array<string> = []
  const phase = (name: string) => phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return { t0, phases, phase }
}

type Timeline = ReturnType<typeof timeline>

/** Runs `body`; a failure carries the phases reached and the runners' logs. */
const explained = async (
  phases: ReadonlyArray<string>,
  runners: () => ReadonlyArray<Runner>,
  body: () => Promise<void>
) => {
  try {
    await body()
  } catch (e) {
    throw new Error(`${String(e)}${actualOf(e)}\nphases: ${phases.join(", ")}\n${logsOf(runners())}`)
  }
}

/**
 * Every cluster test's frame: a timeline of its phases, the runners answering, joined and their
 * shards settled, then `body`; a failure carries the phases reached and the logs of `logged`
 * (`runners` unless the test replaces processes as it goes).
 */
export const inCluster = (
  cluster: {
    readonly db: FreshDatabase
    readonly runners: ReadonlyArray<Runner>
    readonly logged?: () => ReadonlyArray<Runner>
  },
  body: (steps: Timeline) => Promise<void>
) => {
  const steps = timeline()
  return explained(steps.phases, cluster.logged ?? (() => cluster.runners), async () => {
    await clusterUp(cluster.db, cluster.runners, steps.phase)
    await body(steps)
  })
}

/** What a failed assertion received (inside an Effect's failure too), which its message shortens to a line. */
const actualOf = (e: unknown): string => {
  if (Runtime.isFiberFailure(e)) return actualOf(Cause.squash(e[Runtime.FiberFailureCauseId]))
  const found = typeof e === "object" && e !== null && "actual" in e ? e.actual : undefined
  if (found === undefined) return ""
  return `\nreceived: ${(typeof found === "string" ? found : JSON.stringify(found)).slice(0, 4_000)}`
}

const hasExited = (r: Runner) => r.process.child.exitCode !== null || r.process.child.signalCode !== null

/** The providers each runner reports owning on `/health` (a killed runner owns nothing). */
export const owners = async (runners: ReadonlyArray<Runner>): Promise<Map<string, Array<string>>> => {
  const byProvider = new Map<string, Array<string>>()
  for (const r of runners) {
    if (hasExited(r)) continue
    const answer = await get(`${r.url}/health`, 5_000).catch(() => undefined)
    if (answer === undefined) continue
    const report = JSON.parse(answer.body) as { cluster?: { runner: string; providers: Array<string> } }
    for (const p of report.cluster?.providers ?? []) byProvider.set(p, [...(byProvider.get(p) ?? []), r.name])
  }
  return byProvider
}

/** Waits until every provider has exactly one owner among `runners`. */
export const singleOwners = (runners: ReadonlyArray<Runner>, ms = 30_000) =>
  until(
    "each provider owned by exactly one runner",
    () => owners(runners),
    (m) => PROVIDERS.every((p) => m.get(p)?.length === 1),
    ms
  )

/**
 * Waits until the three runners hold every shard between them and the split has stayed put for
 * two refreshes: a subscription made before would start on the first runner up and move at once,
 * a handoff the tests are not about.
 */
export const shardsSettled = (db: FreshDatabase) => {
  let last = ""
  let since = Date.now()
  return until(
    "the shards settle over the three runners",
    async () => {
      const { rows } = await db.admin.query<{ address: string; n: number }>(
        "SELECT address, count(*)::int AS n FROM datahub.cluster_locks GROUP BY address ORDER BY address"
      )
      const key = JSON.stringify(rows)
      if (key !== last) [last, since] = [key, Date.now()]
      return { rows, steadyMs: Date.now() - since }
    },
    ({ rows, steadyMs }) =>
      rows.length === 3 && rows.reduce((n, r) => n + r.n, 0) === SHARDS && steadyMs >= 2_000,
    60_000
  )
}

/**
 * Waits until every runner answers, all have joined the cluster and the shard split has settled:
 * what each test waits for before it subscribes anything.
 */
const clusterUp = async (
  db: FreshDatabase,
  runners: ReadonlyArray<Runner>,
  phase: (name: string) => void
) => {
  await Promise.all(runners.map((r) => waitFor200(`${r.url}/health`, 60_000, r.process)))
  phase("answering")
  // Joining takes a few statements, but twelve runners starting at once on two cores (the
  // cluster tests run together) can keep one from them for tens of seconds.
  await until(
    "all runners joined",
    () => runnerCount(db),
    (n) => n === runners.length,
    60_000
  )
  phase("joined")
  await shardsSettled(db)
  phase("settled")
}

/**
 * Runners registered. A runner answers `/health` before its cluster storage has created
 * `cluster_runners`, so a table not there yet counts as none.
 */
export const runnerCount = async (db: FreshDatabase) =>
  (await db.admin.query<{ t: string | null }>("SELECT to_regclass('datahub.cluster_runners')::text AS t"))
    .rows[0]?.t
    ? ((await db.admin.query("SELECT address FROM datahub.cluster_runners")).rowCount ?? 0)
    : 0

export const storedCount = async (db: FreshDatabase, provider: string) =>
  Number(
    (
      await db.admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM datahub.historical_data WHERE provider = $1",
        [provider]
      )
    ).rows[0]?.n ?? 0
  )

/**
 * History subscriptions of every provider and symbol, from `BACKFILL_DAYS` ago; returns the first
 * bar's open time.
 */
export const subscribeAll = async (db: FreshDatabase) => {
  const from = Date.now() - BACKFILL_DAYS * 1_440 * MINUTE
  const fromBar = Math.floor(from / MINUTE) * MINUTE
  for (const provider of PROVIDERS)
    for (const symbol of SYMBOLS)
      await db.admin.query(
        `INSERT INTO datahub.provider_subscription (provider, symbol, timeframe, mode, backfill_from)
         VALUES ($1, $2, '1m', 'history', to_timestamp($3::float8 / 1000))`,
        [provider, symbol, fromBar]
      )
  return fromBar
}

/** One history subscription: a provider's series collected from `from` (epoch ms) on. */
export interface Series {
  readonly provider: string
  readonly symbol: string
  readonly timeframe: string
  readonly from: number
}

/** History subscriptions of every one of `series`, inserted in one statement. */
export const subscribeSeries = (db: FreshDatabase, series: ReadonlyArray<Series>) =>
  db.admin.query(
    `INSERT INTO datahub.provider_subscription (provider, symbol, timeframe, mode, backfill_from)
     SELECT p, s, t, 'history', to_timestamp(f / 1000)
     FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS x(p, s, t, f)`,
    [
      series.map((s) => s.provider),
      series.map((s) => s.symbol),
      series.map((s) => s.timeframe),
      series.map((s) => s.from)
    ]
  )

export const allCurrent = (db: FreshDatabase, ms: number) =>
  until(
    "every subscription is current",
    async () =>
      (
        await db.admin.query(
          "SELECT count(*)::int AS n FROM datahub.provider_subscription WHERE status = 'current'"
        )
      ).rows[0].n as number,
    (n) => n === PROVIDERS.length * SYMBOLS.length,
    ms
  )

/**
 * Every bar from `fromBar` up to each subscription's `collected_until` is stored once and equals
 * what the provider serves.
 */
export const expectEveryBarOnceAndTrue = async (db: FreshDatabase, fromBar: number) => {
  const truth = new Script()
  const { rows: subs } = await db.admin.query<{ provider: string; symbol: string; until: number }>(
    `SELECT provider, symbol, (extract(epoch FROM collected_until) * 1000)::float8 AS until
     FROM datahub.provider_subscription`
  )
  for (const s of subs) {
    const expected = truth.truth(s.symbol, "1m", fromBar, s.until)
    const { rows } = await db.admin.query<{ ts: number; close: number; volume: number }>(
      `SELECT (extract(epoch FROM ts) * 1000)::float8 AS ts, close, volume FROM datahub.historical_data
       WHERE provider = $1 AND symbol = $2 AND timeframe = '1m' AND ts < to_timestamp($3::float8 / 1000) ORDER BY ts`,
      [s.provider, s.symbol, s.until]
    )
    expect({ series: `${s.provider} ${s.symbol}`, bars: rows.length }).toEqual({
      series: `${s.provider} ${s.symbol}`,
      bars: expected.length
    })
    expect(rows.map((b) => [b.ts, b.close, b.volume])).toEqual(expected.map((b) => [b.ts, b.close, b.volume]))
  }
}

/** One request of a range: the runner that made it and when (0 when its line has no time). */
export interface Request {
  readonly runner: string
  readonly at: number
}

/**
 * `REQ <provider> <symbol> <from>[ @<epoch ms>]` lines of each runner: for each range, every
 * request of it (a runner twice if it asked twice), in the order they were made.
 */
export const timedRequests = (runners: ReadonlyArray<Runner>) => {
  const byRange = new Map<string, Array<Request>>()
  for (const r of runners)
    for (const line of r.process.stdout().split("\n"))
      if (line.startsWith("REQ ")) {
        const [key, at] = line.slice(4).split(" @")
        byRange.set(key!, [...(byRange.get(key!) ?? []), { runner: r.name, at: Number(at ?? 0) }])
      }
  for (const list of byRange.values()) list.sort((a, b) => a.at - b.at)
  return byRange
}

/** For each range, the runner of every request of it, in the order they were made. */
export const requests = (runners: ReadonlyArray<Runner>) =>
  new Map([...timedRequests(runners)].map(([key, list]) => [key, list.map((r) => r.runner)]))

/** Which runners requested each range. */
export const requesters = (runners: ReadonlyArray<Runner>) =>
  new Map([...requests(runners)].map(([key, who]) => [key, new Set(who)]))
