/**
 * A graceful stop hands its shards over before it exits, so a rolling restart of all runners
 * loses nothing and duplicates nothing. Three runner processes backfill 3 providers × 10 symbols;
 * while the backfill runs, each runner in turn gets SIGTERM, exits cleanly, and is started again
 * on the same cluster address and HTTP port. Each stop must leave no lock row and no runner row
 * behind as the process exits (a runner that died would keep its lock rows until they expired),
 * and its providers must run elsewhere; how long that took is printed. In the end every bar is stored once and right, no collection run
 * failed, and the only ranges asked twice are the runs in flight at a handoff: at most two per
 * handoff (a provider runs two at a time), none begun by a runner after its provider left it.
 */
import { afterEach, expect, it } from "vitest"
import { useFreshDatabase } from "../support/freshDatabase"
import { type Exit, get, killLeftovers, servicePair, waitFor200, within } from "../support/processes"
import {
  allCurrent,
  BARS_PER_PROVIDER,
  expectEveryBarOnceAndTrue,
  inCluster,
  LOCK_EXPIRY_SECONDS,
  owners,
  PROVIDERS,
  type Request,
  type Runner,
  singleOwners,
  sleep,
  spawnRunner,
  spawnRunners,
  storedCount,
  subscribeAll,
  timedRequests,
  until
} from "./support"

/** Owner watches still sampling: a test that fails stops its own here. */
const watches = new Set<() => Promise<void>>()
afterEach(async () => {
  await Promise.all([...watches].map((stop) => stop()))
  watches.clear()
})
afterEach(killLeftovers)

const db = useFreshDatabase("quasar-rolling-")

/**
 * Each provider page takes this long, so a provider's backfill (10 symbols × 8 pages, two runs at
 * a time) lasts ~50 s: long enough to be under way through the restarts, short enough for CI.
 */
const PAGE_DELAY_MS = 1_250
/** DataHub gives its shutdown 8 s before it exits with 1; a little more for the process to go. */
const EXIT_LIMIT_MS = 10_000
/** Runs of one provider at once (CollectionConfig's default): what a handoff can catch in flight. */
const RUNS_IN_FLIGHT = 2

interface Restart {
  readonly runner: string
  /** The providers it owned when it was stopped. */
  readonly providers: ReadonlyArray<string>
  /** Their bars stored at the stop. */
  readonly storedAtStop: number
  readonly exitMs: number
  /** From SIGTERM until every provider it owned runs on another runner. */
  readonly handoffMs: number
  /** From the new process's start until it owns its providers again. */
  readonly backMs: number
}

/** A provider's move from one process to another (processes named `<address>#<generation>`). */
interface Handoff {
  readonly provider: string
  readonly from: string
  readonly to: string
  /** Ranges asked again because of it. */
  repeats: number
}

/** A runner that gave a provider back to its restarted owner, and when (its own `/health` says). */
interface Loss {
  readonly provider: string
  readonly runner: string
  readonly at: number
}

/** The rows a runner keeps in the cluster's tables: its registration and its shard locks. */
const rowsOf = async (address: string) => {
  const runners = await db.admin.query("SELECT 1 FROM datahub.cluster_runners WHERE address = $1", [address])
  const locks = await db.admin.query("SELECT 1 FROM datahub.cluster_locks WHERE address = $1", [address])
  return { registered: runners.rowCount ?? 0, locks: locks.rowCount ?? 0 }
}

/** When `runner` last let `provider` go, by its `/health`. */
const lostAt = async (runner: Runner, provider: string) => {
  const report = JSON.parse((await get(`${runner.url}/health`)).body) as {
    cluster?: { handoffs: { recent: Array<{ provider: string; kind: string; at: number }> } }
  }
  const at = report.cluster?.handoffs.recent
    .filter((h) => h.provider === provider && h.kind === "lost")
    .at(-1)?.at
  if (at === undefined) throw new Error(`${runner.name} reports no loss of ${provider}`)
  return at
}

/** Runs `loss.runner` began of the provider it had lost, before `before` (symbol, ms after the loss). */
const runsAfter = async (loss: Loss, before: number) =>
  (
    await db.admin.query<{ symbol: string; at: number }>(
      `SELECT symbol, (extract(epoch FROM started_at) * 1000)::float8 AS at FROM datahub.collection_runs
       WHERE runner = $1 AND provider = $2
       AND started_at > to_timestamp($3::float8 / 1000) AND started_at < to_timestamp($4::float8 / 1000)
       ORDER BY started_at`,
      [loss.runner, loss.provider, loss.at, before]
    )
  ).rows.map((r) => `${r.symbol} +${Math.round(r.at - loss.at)} ms`)

/** A provider's tenure with one process: who, and when a sample first saw it. */
interface Tenure {
  readonly process: string
  readonly seenAt: number
}

/**
 * Each provider's owners in the order they held it, sampled every 200 ms from the runners' own
 * `/health` while the test runs: a handoff the restarts do not ask for (a runner on a loaded
 * machine that missed a lock refresh, a move while one rejoins) is one too, and the runs it caught
 * in flight are its own, not the next visible handoff's. Runner addresses are named by process
 * with `processOf` at the time of the sample; a sample where a provider has no single owner (a
 * handoff under way) says nothing about it.
 */
const watchOwners = (runners: () => ReadonlyArray<Runner>, processOf: ReadonlyMap<string, string>) => {
  const succession = new Map(PROVIDERS.map((p) => [p, [] as Array<Tenure>]))
  let watching = true
  const sampling = (async () => {
    while (watching) {
      const seenAt = Date.now()
      const m = await owners(runners())
      for (const p of PROVIDERS) {
        const who = m.get(p)
        const process = who?.length === 1 ? processOf.get(who[0]!) : undefined
        const list = succession.get(p)!
        if (process !== undefined && list.at(-1)?.process !== process) list.push({ process, seenAt })
      }
      await sleep(200)
    }
  })()
  const stop = async () => {
    watching = false
    await sampling
  }
  watches.add(stop)
  return { succession, stop }
}

/** How much later than its owner's first request a sample may first see the owner. */
const SAMPLE_LAG_MS = 2_000

/**
 * Each repeated request blamed on the handoff it comes from. A request was made in its
 * process's tenure that began last before it; asking a range again repeats the run the earlier
 * asker had in flight when its tenure ended, so the handoff out of that tenure is blamed. Each
 * handoff is its own, even between the same two processes back and forth. A range asked again in
 * the same tenure, or by a process that never owned its provider, is no handoff's: `unexplained`.
 */
const blame = (
  succession: ReadonlyMap<string, ReadonlyArray<Tenure>>,
  byRange: Map<string, Array<Request>>
) => {
  const handoffs = new Map<string, Handoff>()
  for (const [provider, tenures] of succession)
    for (const [i, to] of tenures.slice(1).entries())
      handoffs.set(`${provider} ${i}`, { provider, from: tenures[i]!.process, to: to.process, repeats: 0 })
  const unexplained: Array<string> = []
  for (const [range, asked] of byRange) {
    if (asked.length < 2) continue
    const provider = range.split(" ")[0]!
    const tenures = succession.get(provider) ?? []
    const tenureOf = (r: Request) =>
      tenures.findLastIndex((t) => t.process === r.runner && t.seenAt <= r.at + SAMPLE_LAG_MS)
    const order = asked.map(tenureOf)
    const described = `${range}: ${asked.map((r) => `${r.runner} in tenure ${tenureOf(r)}`).join(", ")}`
    if (order.some((at, k) => at < 0 || (k > 0 && at <= order[k - 1]!))) unexplained.push(described)
    else for (const at of order.slice(0, -1)) handoffs.get(`${provider} ${at}`)!.repeats++
  }
  return { handoffs: [...handoffs.values()], unexplained }
}

const sameOwners = (a: Map<string, Array<string>>, b: Map<string, Array<string>>) =>
  PROVIDERS.every((p) => a.get(p)?.length === 1 && a.get(p)?.[0] === b.get(p)?.[0])

it("a rolling restart of all three runners, each stopped with SIGTERM mid-backfill, loses and repeats no bar", async () => {
  const { env } = await servicePair(db.url, db.dataDir)
  const extra = { RUNNER_PAGE_DELAY_MS: String(PAGE_DELAY_MS) }
  const live: Array<Runner> = await spawnRunners(env, extra)
  // Every process, the stopped ones too, named apart by generation: the request logs of all of
  // them are read at the end, and a handoff is between two processes, not two addresses.
  const processOf = new Map(live.map((r) => [r.name, `${r.name}#1`]))
  const every: Array<Runner> = live.map((r) => ({ ...r, name: processOf.get(r.name)! }))
  await inCluster({ db, runners: live, logged: () => every }, async ({ t0, phases, phase }) => {
    const fromBar = await subscribeAll(db)
    const initial = await singleOwners(live)
    await until(
      "every provider's backfill is under way",
      () => Promise.all(PROVIDERS.map((p) => storedCount(db, p))),
      (ns) => ns.every((n) => n > 0),
      30_000
    )
    phase("under way")

    // Who owned each provider, sampled throughout: the handoffs, in order.
    const watch = watchOwners(() => live, processOf)
    const restarts: Array<Restart> = []
    const losses: Array<Loss> = []
    const stops: Array<number> = []
    for (const [i, old] of [...live].entries()) {
      const others = live.filter((r) => r !== old)
      const providers = PROVIDERS.filter((p) => initial.get(p)?.[0] === old.name)
      const stored = await Promise.all(providers.map((p) => storedCount(db, p)))
      const stoppedAt = Date.now()
      stops.push(stoppedAt)
      old.process.child.kill("SIGTERM")
      const [handedOver, exit] = await Promise.all([
        until(
          `${old.name}'s providers ${providers.join(", ")} taken over`,
          () => owners(others),
          (m) => providers.every((p) => m.get(p)?.length === 1),
          30_000
        ).then((m) => ({ m, ms: Date.now() - stoppedAt })),
        // Its rows are read as it exits: a runner that let its shards go has none left, while
        // one that died would keep its lock rows until they expired.
        within(EXIT_LIMIT_MS, `${old.name} exits after SIGTERM`, old.process.exited).then(
          async (e: Exit) => ({
            e,
            ms: Date.now() - stoppedAt,
            rows: await rowsOf(old.name)
          })
        )
      ])
      phase(`stopped ${i + 1} (handoff ${handedOver.ms} ms, exit ${exit.ms} ms)`)
      expect(
        exit.e.code === 0 || exit.e.signal === "SIGTERM",
        `${old.name} exits 0 on SIGTERM, not ${JSON.stringify(exit.e)}`
      ).toBe(true)
      // Gone from the cluster's tables at its exit: it let its shards go rather than leave them to expire.
      expect({ address: old.name, ...exit.rows }).toEqual({ address: old.name, registered: 0, locks: 0 })

      const back = spawnRunner(env, old.ports, extra)
      const startedAt = Date.now()
      live[i] = back
      processOf.set(back.name, `${back.name}#2`)
      every.push({ ...back, name: processOf.get(back.name)! })
      await waitFor200(`${back.url}/health`, 60_000, back.process)
      await until(
        `${back.name} joined again`,
        async () => (await rowsOf(back.name)).registered,
        (n) => n === 1,
        15_000
      )
      // The same address takes the same shards: the owners before the stop again.
      await until(
        `${back.name} owns its providers again`,
        () => owners(live),
        (m) => sameOwners(m, initial),
        20_000
      )
      for (const p of providers) {
        const holder = live.find((r) => r.name === handedOver.m.get(p)?.[0])!
        losses.push({ provider: p, runner: holder.name, at: await lostAt(holder, p) })
      }
      phase(`back ${i + 1}`)
      restarts.push({
        runner: old.name,
        providers,
        storedAtStop: stored.reduce((a, b) => a + b, 0),
        exitMs: exit.ms,
        handoffMs: handedOver.ms,
        backMs: Date.now() - startedAt
      })
    }

    await allCurrent(db, 60_000)
    phase("current")

    // A run the stop interrupted is recorded as interrupted, never as failed.
    const { rows: failed } = await db.admin.query(
      "SELECT provider, symbol, runner, error FROM datahub.collection_runs WHERE status = 'failed'"
    )
    // A range is asked again only when a run was in flight at a handoff.
    await watch.stop()
    const byRange = timedRequests(every)
    const repeated = [...byRange].filter(([, who]) => who.length > 1)
    const { handoffs, unexplained } = blame(watch.succession, byRange)
    // A runner that lost a provider begins no run of it afterwards (until it owns it again, at
    // the earliest after the next stop).
    const late = await Promise.all(
      losses.map(async (l) => ({
        ...l,
        runs: await runsAfter(l, stops.find((t) => t > l.at) ?? Date.now())
      }))
    )
    phase("checked")
    console.log(
      [
        `rolling restart (lock expiry ${LOCK_EXPIRY_SECONDS} s, page delay ${PAGE_DELAY_MS} ms):`,
        ...restarts.map(
          (r) =>
            `  ${r.runner} owning [${r.providers.join(", ")}] (${r.storedAtStop}/${r.providers.length * BARS_PER_PROVIDER} bars at stop): ` +
            `${r.providers.length > 0 ? `handed over in ${r.handoffMs} ms` : "nothing to hand over"}, exited in ${r.exitMs} ms, back in ${r.backMs} ms`
        ),
        `  ranges asked again: ${repeated.reduce((n, [, who]) => n + who.length - 1, 0)}`,
        ...handoffs.map((h) => `    ${h.provider} ${h.from} → ${h.to}: ${h.repeats}`),
        ...repeated.map(
          ([key, asked]) =>
            `      ${key}: ${asked.map((r) => `${r.runner} +${((r.at - t0) / 1000).toFixed(1)} s`).join(", ")}`
        ),
        ...PROVIDERS.map(
          (p) =>
            `    ${p} owners: ${watch.succession
              .get(p)!
              .map((t) => `${t.process} +${((t.seenAt - t0) / 1000).toFixed(1)} s`)
              .join(" → ")}`
        ),
        ...late.map(
          (l) =>
            `  runs ${l.runner} began after giving ${l.provider} back (+${((l.at - t0) / 1000).toFixed(1)} s): ${l.runs.length} ${l.runs.join(", ")}`
        ),
        `  failed runs: ${failed.length}`,
        `  wall time ${((Date.now() - t0) / 1000).toFixed(1)} s; ${phases.join(", ")}`
      ].join("\n")
    )
    await expectEveryBarOnceAndTrue(db, fromBar)
    // At least one stop fell in the middle of its providers' backfill.
    expect(
      restarts.some((r) => r.providers.length > 0 && r.storedAtStop < r.providers.length * BARS_PER_PROVIDER)
    ).toBe(true)
    expect(failed, "failed collection runs").toEqual([])
    expect(unexplained, "ranges asked again with no handoff between").toEqual([])
    // A provider runs two at a time: no handoff catches more in flight.
    for (const h of handoffs)
      expect(
        h.repeats,
        `ranges asked again after ${h.provider}'s handoff ${h.from} → ${h.to}`
      ).toBeLessThanOrEqual(RUNS_IN_FLIGHT)
    expect(
      late.filter((l) => l.runs.length > 0),
      "runs begun by a runner after its provider had left it"
    ).toEqual([])
  })
}, 180_000)
