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
import { useFreshDatabase } from "../support/freshDatabase"
import { get, killLeftovers, servicePair } from "../support/processes"
import {
  allCurrent,
  BARS_PER_PROVIDER,
  expectEveryBarOnceAndTrue,
  inCluster,
  LOCK_EXPIRY_SECONDS,
  owners,
  PROVIDERS,
  requesters,
  singleOwners,
  spawnRunners,
  storedCount,
  subscribeAll,
  until
} from "./support"

afterEach(killLeftovers)

const db = useFreshDatabase("quasar-cluster-")
const { dataDir } = db

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
  const runners = await spawnRunners(env)
  await inCluster({ db, runners }, async ({ phases, phase }) => {
    // Garbage on a runner's cluster port is refused without a crash.
    await garbageTo(runners[0]!.name)
    expect((await get(`${runners[0]!.url}/health`)).status).toBe(200)
    expect(runners[0]!.process.child.exitCode).toBe(null)

    const fromBar = await subscribeAll(db)

    // Every provider has exactly one owner, and the owners report it on /health.
    const owned = await singleOwners(runners)
    phase("owned")
    const victimName = owned.get("alpha")![0]!
    const victim = runners.find((r) => r.name === victimName)!
    const survivors = runners.filter((r) => r !== victim)

    // kill -9 the owner of alpha in the middle of alpha's backfill.
    await until(
      "alpha's backfill is under way",
      () => storedCount(db, "alpha"),
      (n) => n >= BARS_PER_PROVIDER * 0.2,
      30_000
    )
    victim.process.child.kill("SIGKILL")
    const killedAt = Date.now()
    phase("killed")
    const atKill = await storedCount(db, "alpha")
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
    expect(atKill).toBeLessThan(BARS_PER_PROVIDER)

    // Every subscription catches up.
    await allCurrent(db, 40_000)
    phase("current")

    // Every bar stored once and equal to what the provider serves.
    await expectEveryBarOnceAndTrue(db, fromBar)

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
  })
}, 120_000)
