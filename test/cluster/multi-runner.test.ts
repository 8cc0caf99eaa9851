/**
 * DataHub as a cluster of three runner processes on one PostgreSQL database: each provider is
 * collected by exactly one runner (every range requested once, by its owner), and a runner killed
 * with `kill -9` in the middle of a backfill hands its provider to another runner, which resumes
 * the backfill from its recorded progress; in the end every bar is stored once and right.
 *
 * The runners are production's entry point with scripted in-process providers
 * (apps/datahub/test/cluster/runnerProcess.ts), which print every request they serve.
 */
import { randomBytes } from "node:crypto"
import { connect } from "node:net"
import { afterEach, expect, it } from "vitest"
import { Script } from "../../apps/datahub/test/collect/scripted"
import { useFreshDatabase } from "../support/freshDatabase"
import {
  freePort,
  get,
  killLeftovers,
  type Spawned,
  servicePair,
  spawnTsx,
  waitFor200
} from "../support/processes"

afterEach(killLeftovers)

const MINUTE = 60_000
const PROVIDERS = ["alpha", "bravo", "charlie"]
const SYMBOLS = Array.from({ length: 10 }, (_, i) => `S${i}/USD`)
const BACKFILL_DAYS = 1
const LOCK_EXPIRY_SECONDS = 6

const db = useFreshDatabase("quasar-cluster-")
const { dataDir } = db

interface Runner {
  readonly name: string
  readonly url: string
  readonly process: Spawned
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const until = async <A>(what: string, probe: () => Promise<A>, check: (a: A) => boolean, ms: number) => {
  const started = Date.now()
  let last: A | undefined
  while (Date.now() - started < ms) {
    last = await probe()
    if (check(last)) return last
    await sleep(100)
  }
  throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`)
}

/** The providers each runner reports owning on `/health` (a killed runner owns nothing). */
const owners = async (runners: ReadonlyArray<Runner>): Promise<Map<string, Array<string>>> => {
  const byProvider = new Map<string, Array<string>>()
  for (const r of runners) {
    if (r.process.child.exitCode !== null || r.process.child.signalCode !== null) continue
    const answer = await get(`${r.url}/health`, 5_000).catch(() => undefined)
    if (answer === undefined) continue
    const report = JSON.parse(answer.body) as { cluster?: { runner: string; providers: Array<string> } }
    for (const p of report.cluster?.providers ?? []) byProvider.set(p, [...(byProvider.get(p) ?? []), r.name])
  }
  return byProvider
}

const storedCount = async (provider: string) =>
  Number(
    (
      await db.admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM datahub.historical_data WHERE provider = $1",
        [provider]
      )
    ).rows[0]?.n ?? 0
  )

/** `REQ <provider> <symbol> <from>` lines of each runner: which runners requested each range. */
const requesters = (runners: ReadonlyArray<Runner>) => {
  const byRange = new Map<string, Set<string>>()
  for (const r of runners)
    for (const line of r.process.stdout().split("\n"))
      if (line.startsWith("REQ ")) {
        const key = line.slice(4)
        byRange.set(key, (byRange.get(key) ?? new Set()).add(r.name))
      }
  return byRange
}

/** Random bytes and a malformed frame to `address`, then the connection is closed. */
const garbageTo = (address: string) =>
  new Promise<void>((resolve) => {
    const [host, port] = address.split(":")
    const socket = connect({ host: host!, port: Number(port) }, () => {
      socket.write(randomBytes(4096))
      socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xc1, 0xc1]))
      // The runner may keep its end open: the test does not wait for it.
      setTimeout(() => {
        socket.destroy()
        resolve()
      }, 300)
    })
    socket.on("error", () => resolve())
    socket.on("close", () => resolve())
  })

it("three runners collect each provider once; kill -9 of an owner moves its provider and loses no bar", async () => {
  const { env } = await servicePair(db.url, dataDir)
  const runners: Array<Runner> = await Promise.all(
    [0, 1, 2].map(async () => {
      const [httpPort, clusterPort] = [await freePort(), await freePort()]
      const name = `127.0.0.1:${clusterPort}`
      const process = spawnTsx("apps/datahub/test/cluster/runnerProcess.ts", {
        ...env,
        DATAHUB_PORT: String(httpPort),
        QUASAR_CLUSTER_RUNNER_ADDRESS: name,
        QUASAR_CLUSTER_LOCK_EXPIRY_SECONDS: String(LOCK_EXPIRY_SECONDS),
        RUNNER_PROVIDERS: PROVIDERS.join(","),
        LOG_LEVEL: "Error"
      })
      return { name, url: `http://127.0.0.1:${httpPort}`, process }
    })
  )
  const logs = () =>
    runners
      .map((r) => `--- ${r.name}\n${r.process.stderr().slice(-3000)}${r.process.stdout().slice(-1500)}`)
      .join("\n")
  const t0 = Date.now()
  const phases: Array<string> = []
  const phase = (name: string) => phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  try {
    await Promise.all(runners.map((r) => waitFor200(`${r.url}/health`, 60_000, r.process)))
    phase("answering")
    await until(
      "all three runners joined",
      async () => (await db.admin.query("SELECT address FROM datahub.cluster_runners")).rowCount ?? 0,
      (n) => n === 3,
      15_000
    )
    phase("joined")

    // Garbage on a runner's cluster port is refused without a crash.
    await garbageTo(runners[0]!.name)
    expect((await get(`${runners[0]!.url}/health`)).status).toBe(200)
    expect(runners[0]!.process.child.exitCode).toBe(null)

    const now = Date.now()
    const from = now - BACKFILL_DAYS * 1_440 * MINUTE
    const fromBar = Math.floor(from / MINUTE) * MINUTE
    for (const provider of PROVIDERS)
      for (const symbol of SYMBOLS)
        await db.admin.query(
          `INSERT INTO datahub.provider_subscription (provider, symbol, timeframe, mode, backfill_from)
           VALUES ($1, $2, '1m', 'history', to_timestamp($3::float8 / 1000))`,
          [provider, symbol, fromBar]
        )

    // Every provider has exactly one owner, and the owners report it on /health.
    const owned = await until(
      "each provider owned by exactly one runner",
      () => owners(runners),
      (m) => PROVIDERS.every((p) => m.get(p)?.length === 1),
      15_000
    )
    phase("owned")
    const victimName = owned.get("alpha")![0]!
    const victim = runners.find((r) => r.name === victimName)!
    const survivors = runners.filter((r) => r !== victim)

    // kill -9 the owner of alpha in the middle of alpha's backfill.
    const alphaTotal = SYMBOLS.length * BACKFILL_DAYS * 1_440
    await until(
      "alpha's backfill is under way",
      () => storedCount("alpha"),
      (n) => n >= alphaTotal * 0.2,
      30_000
    )
    victim.process.child.kill("SIGKILL")
    const killedAt = Date.now()
    phase("killed")
    const atKill = await storedCount("alpha")
    const takenOver = await until(
      "alpha moves to another runner",
      () => owners(survivors),
      (m) => m.get("alpha")?.length === 1,
      20_000
    )
    const failoverMs = Date.now() - killedAt
    phase("moved")
    expect(takenOver.get("alpha")![0]).not.toBe(victimName)
    expect(failoverMs).toBeLessThan(10_000)
    expect(atKill).toBeLessThan(alphaTotal)

    // Every subscription catches up.
    await until(
      "every subscription is current",
      async () =>
        (
          await db.admin.query(
            "SELECT count(*)::int AS n FROM datahub.provider_subscription WHERE status = 'current'"
          )
        ).rows[0].n as number,
      (n) => n === PROVIDERS.length * SYMBOLS.length,
      40_000
    )
    phase("current")

    // Every bar stored once and equal to what the provider serves.
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
      expect(rows.map((b) => [b.ts, b.close, b.volume])).toEqual(
        expected.map((b) => [b.ts, b.close, b.volume])
      )
    }

    // Each range was requested by one runner only, except where a provider changed hands (the
    // victim's alpha, and any provider the survivors' new shard split moved): the runs in flight
    // at the handoff are asked again by the new owner.
    const after = await owners(survivors)
    const moved = PROVIDERS.filter((p) => after.get(p)?.[0] !== owned.get(p)?.[0])
    expect(moved).toContain("alpha")
    const byRange = requesters(runners)
    const twice = [...byRange].filter(([, who]) => who.size > 1).map(([key]) => key)
    expect(twice.filter((key) => !moved.includes(key.split(" ")[0]!))).toEqual([])
    expect(twice.length).toBeLessThanOrEqual(2 * moved.length)
    // The collection runs record their runner: one per provider that stayed, two for one that moved.
    const { rows: runRunners } = await db.admin.query<{ provider: string; runners: number }>(
      `SELECT provider, count(DISTINCT runner)::int AS runners FROM datahub.collection_runs GROUP BY provider ORDER BY provider`
    )
    expect(runRunners).toEqual(
      PROVIDERS.map((provider) => ({ provider, runners: moved.includes(provider) ? 2 : 1 }))
    )
    phase("checked")
    console.log(
      `failover of alpha: ${failoverMs} ms (lock expiry ${LOCK_EXPIRY_SECONDS} s); ${phases.join(", ")}`
    )
  } catch (e) {
    throw new Error(`${String(e)}\nphases: ${phases.join(", ")}\n${logs()}`)
  }
}, 120_000)
