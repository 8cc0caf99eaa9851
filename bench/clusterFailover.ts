/**
 * Failover of the `cluster` benchmark: the synthetic provider streams live (and backfills) on one
 * of three runners; its owner is killed with SIGKILL and two times are taken from the kill:
 *
 * - `owned`: until a surviving runner reports the provider on `/health` (`cluster.providers`),
 *   i.e. its singleton runs there;
 * - `live`: until that runner's `/live` client receives a bar of the provider. Every runner has a
 *   client watching all the provider's series, and a runner pushes only the bars it committed
 *   itself, so this is the new owner's stream delivering (connected, gap filled, first update
 *   committed). Bars received within 1 s of the kill do not count: no failover is that fast (the
 *   lock expiry is at least 3 s), and a bar in flight from the victim must not pass for one.
 *
 * Then the victim is restarted on its ports (it rejoins; the provider may move back to it) and,
 * once one runner owns the provider and its stream flows, the next trial begins.
 */
import type Pg from "pg"
import type WebSocket from "ws"
import { isAlive, killRunner, ownersOf, predictOwner, type Runner, restartRunner } from "./clusterRunners"
import { configureProvider, makeSink, type Sink, watch } from "./liveClients"
import { note } from "./support"

const PROVIDER = "synthetic"
const SYMBOLS = Array.from({ length: 10 }, (_, i) => `F${i}/USD`)
/** The synthetic feed's period: the resolution of the `live` time. */
const UPDATE_MS = 250
/** A bar this soon after the kill is one in flight from the victim (see above). */
const IN_FLIGHT_MS = 1_000
const BACKFILL_DAYS = 2

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `probe` every 100 ms until it answers something other than undefined. */
const until = async <A>(what: string, ms: number, probe: () => Promise<A | undefined>) => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const a = await probe()
    if (a !== undefined) return a
    await sleep(100)
  }
  throw new Error(`${what}: not within ${ms / 1000} s`)
}

export interface FailoverTrial {
  readonly victim: string
  readonly successor: string
  readonly ownedMs: number
  readonly liveMs: number
}

/** Each runner's `/live` client and the receipt times of the bars it was pushed. */
class Watchers {
  private readonly sockets = new Map<string, WebSocket>()
  private readonly received = new Map<string, Array<number>>()
  private readonly sinks: Array<Sink> = []

  async watch(runner: Runner) {
    const times: Array<number> = []
    const sink = makeSink()
    sink.on = true
    sink.onBar = (at) => times.push(at)
    this.sinks.push(sink)
    this.received.set(runner.name, times)
    this.sockets.set(runner.name, await watch(runner.url, SYMBOLS, sink, PROVIDER))
  }

  /** The first bar `runner` was pushed after `after` (epoch ms), if any. */
  firstAfter(runner: string, after: number) {
    return this.received.get(runner)?.find((t) => t > after)
  }

  counts() {
    return [...this.received].map(([name, times]) => `${name} ${times.length}`).join(", ")
  }

  close() {
    for (const sink of this.sinks) sink.ending = true
    for (const ws of this.sockets.values()) ws.terminate()
  }
}

/**
 * The one runner owning the provider with its stream flowing (a bar in the last second), and the
 * one the cluster assigns it with every runner up: a restarted runner may take the provider back,
 * and a kill in the middle of that handoff would time the handoff, not a failover.
 */
const steadyOwner = async (runners: ReadonlyArray<Runner>, watchers: Watchers) => {
  let seen = ""
  const assigned = predictOwner(
    runners.map((r) => r.name),
    PROVIDER
  )
  return until("one runner owns the provider and streams it", 60_000, async () => {
    const owners = (await ownersOf(runners)).get(PROVIDER) ?? []
    const owner = runners.find((r) => r.name === owners[0])
    seen = `owners ${owners.join(", ") || "none"}, assigned to ${assigned}; bars pushed per runner: ${watchers.counts()}`
    return owners.length === 1 &&
      owner?.name === assigned &&
      watchers.firstAfter(owner?.name ?? "", Date.now() - 1_000) !== undefined
      ? owner
      : undefined
  }).catch((e: unknown) => {
    throw new Error(`${String(e)} (${seen})`)
  })
}

export const measureFailover = async (options: {
  readonly env: NodeJS.ProcessEnv
  readonly registryUrl: string
  readonly admin: Pg.Client
  readonly runners: ReadonlyArray<Runner>
  readonly trials: number
}): Promise<Array<FailoverTrial>> => {
  const { env, registryUrl, admin, runners } = options
  await configureProvider(registryUrl, PROVIDER, { symbols: SYMBOLS.join(","), updateMs: UPDATE_MS })
  // Live and history at once: the runner that takes over also resumes the backfills.
  await admin.query(
    `INSERT INTO datahub.provider_subscription (provider, symbol, timeframe, mode, backfill_from)
     SELECT $1, s, '1m', 'both', now() - make_interval(days => $3::int) FROM unnest($2::text[]) AS s`,
    [PROVIDER, SYMBOLS, BACKFILL_DAYS]
  )
  await admin.query(
    `INSERT INTO datahub.change_events (channel, payload) VALUES ('subscriptions', '{}'::jsonb)`
  )
  const watchers = new Watchers()
  const trials: Array<FailoverTrial> = []
  try {
    for (const r of runners) await watchers.watch(r)
    for (let trial = 1; trial <= options.trials; trial++) {
      const victim = await steadyOwner(runners, watchers)
      const survivors = runners.filter((r) => r !== victim)
      const killedAt = Date.now()
      await killRunner(victim)
      const successor = await until("a surviving runner owns the provider", 60_000, async () => {
        const owner = (await ownersOf(survivors)).get(PROVIDER)?.[0]
        return survivors.find((r) => r.name === owner)
      })
      const ownedMs = Date.now() - killedAt
      const firstBar = await until("the new owner streams", 60_000, async () =>
        watchers.firstAfter(successor.name, killedAt + IN_FLIGHT_MS)
      )
      const result = { victim: victim.name, successor: successor.name, ownedMs, liveMs: firstBar - killedAt }
      trials.push(result)
      note(
        `failover ${trial}: killed ${result.victim}; ${result.successor} owned ${PROVIDER} after ${(ownedMs / 1000).toFixed(1)} s, its /live client got a bar after ${(result.liveMs / 1000).toFixed(1)} s`
      )
      await restartRunner(env, victim)
      await watchers.watch(victim)
    }
    return trials
  } finally {
    watchers.close()
    // History done or not, the throughput measurement that follows must not share the runners' CPU with it.
    await admin.query("DELETE FROM datahub.provider_subscription WHERE provider = $1", [PROVIDER])
    await admin.query(
      `INSERT INTO datahub.change_events (channel, payload) VALUES ('subscriptions', '{}'::jsonb)`
    )
    if (runners.some((r) => !isAlive(r))) note("a runner was left dead after a failed trial")
  }
}
