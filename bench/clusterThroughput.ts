/**
 * One measurement of live throughput on a set of runners, as bench/live.bench.ts takes it: over a
 * window after a warm-up, the updates/s the fakes sent, the rows the runners' writers committed
 * (`quasar_bars_written_total`), the update→push latency on `/live` clients connected to each
 * provider's owner, and the CPU of every process involved (each runner and its sandboxes, the
 * fakes, the clients, the database's backends) with the machine's busy cores, to say what limits
 * it. After the window the fakes go silent for `SETTLE_MS`: every pair's newest stored bar must
 * then carry its fake's last stamp (kept up), or only the rows written count. Then they send again.
 */

import { readFileSync } from "node:fs"
import { cpus } from "node:os"
import type Pg from "pg"
import type WebSocket from "ws"
import { type Load, PROVIDERS, watchProvider } from "./clusterLoad"
import { isAlive, ownersOf, predictOwner, type Runner } from "./clusterRunners"
import { committedRows, makeSink, percentile } from "./liveClients"
import { cpuSeconds, rssOf, sandboxCpuSeconds } from "./services"
import { median, note } from "./support"

const SETTLE_MS = 2_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Busy and total jiffies of the whole machine (/proc/stat), to tell a saturated machine. */
const machineTicks = () => {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0)
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0), total }
}

/** The database's backends serving this benchmark's database (all its connections). */
const backendPids = async (admin: Pg.Client) =>
  (
    await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
  ).rows.map((r) => r.pid)

const cpuOfAll = (pids: ReadonlyArray<number>) => {
  const seconds = new Map<number, number>()
  for (const pid of pids)
    try {
      seconds.set(pid, cpuSeconds(pid))
    } catch {
      // Gone already.
    }
  return seconds
}

export interface ThroughputFigures {
  readonly runners: number
  readonly owners: string
  readonly sentPerSec: number
  readonly committedPerSec: number
  readonly rowsPerSec: number
  readonly keptUp: boolean
  readonly p50Ms: number
  readonly p99Ms: number
  /** Per runner: DataHub's and its sandboxes' CPU, % of one core, and peak RSS. */
  readonly perRunner: ReadonlyArray<{ readonly name: string; cpu: number; sandbox: number; peakMb: number }>
  readonly fakesCpu: number
  readonly clientsCpu: number
  readonly postgresCpu: number
  readonly machineBusyCores: number
}

/**
 * Waits until each provider has one owner among `runners`, the one the cluster assigns it (a
 * runner that just joined takes its providers within a few seconds), and returns the owner of each.
 */
const settledOwners = async (runners: ReadonlyArray<Runner>) => {
  const names = runners.map((r) => r.name)
  const assigned = new Map(PROVIDERS.map((p) => [p, predictOwner(names, p)]))
  const deadline = Date.now() + 60_000
  let owners = new Map<string, Array<string>>()
  while (Date.now() < deadline) {
    owners = await ownersOf(runners)
    if (PROVIDERS.every((p) => owners.get(p)?.length === 1 && owners.get(p)?.[0] === assigned.get(p)))
      return new Map(PROVIDERS.map((p) => [p, runners.find((r) => r.name === owners.get(p)?.[0])!]))
    await sleep(250)
  }
  throw new Error(
    `the providers did not move to their assigned runners within 60 s: assigned ${JSON.stringify([...assigned])}, owners ${JSON.stringify([...owners])}`
  )
}

export const measureThroughput = async (options: {
  readonly runners: ReadonlyArray<Runner>
  readonly load: Load
  readonly admin: Pg.Client
  readonly warmupS: number
  readonly measureS: number
}): Promise<ThroughputFigures> => {
  const { runners, load, admin } = options
  const owners = await settledOwners(runners)
  const ownersText = PROVIDERS.map((p) => `${p} → ${owners.get(p)?.name}`).join(", ")
  note(`${runners.length} runner(s): ${ownersText}; warming up ${options.warmupS} s`)
  const sink = makeSink()
  const sockets: Array<WebSocket> = []
  try {
    for (const p of PROVIDERS)
      sockets.push(...(await watchProvider(owners.get(p)!.url, p, load.symbols, sink)))
    await sleep(options.warmupS * 1000)
    const fakes = PROVIDERS.map((p) => load.fakes[p])
    const pids = await backendPids(admin)
    const first = {
      sent: (await Promise.all(fakes.map((f) => f.stats()))).reduce((n, s) => n + s.updatesSent, 0),
      rows: (await Promise.all(runners.map((r) => committedRows(r.url)))).reduce((a, b) => a + b, 0),
      cpu: runners.map((r) => cpuSeconds(r.process.pid ?? 0)),
      sandboxCpu: runners.map((r) => sandboxCpuSeconds(r.process.pid ?? 0)),
      fakesCpu: fakes.reduce((n, f) => n + cpuSeconds(f.pid), 0),
      clientsCpu: process.cpuUsage(),
      postgres: cpuOfAll(pids),
      machine: machineTicks(),
      at: performance.now()
    }
    sink.on = true
    const peakMb = runners.map((r) => rssOf(r.process.pid ?? 0).peakMb)
    for (let i = 0; i < options.measureS * 4; i++) {
      await sleep(250)
      const dead = runners.find((r) => !isAlive(r))
      if (dead)
        throw new Error(
          `runner ${dead.name} exited during the measurement (code ${dead.process.exitCode}, signal ${dead.process.signalCode}; its stderr above says why)`
        )
      runners.forEach((r, j) => {
        peakMb[j] = Math.max(peakMb[j] ?? 0, rssOf(r.process.pid ?? 0).peakMb)
      })
    }
    sink.on = false
    const seconds = (performance.now() - first.at) / 1000
    const percent = (cpu: number) => Math.round((cpu / seconds) * 100)
    const machine = machineTicks()
    const postgresAfter = cpuOfAll(pids)
    let postgres = 0
    for (const [pid, before] of first.postgres) postgres += (postgresAfter.get(pid) ?? before) - before
    const clients = process.cpuUsage(first.clientsCpu)
    const perRunner = runners.map((r, j) => ({
      name: r.name,
      cpu: percent(cpuSeconds(r.process.pid ?? 0) - (first.cpu[j] ?? 0)),
      sandbox: percent(sandboxCpuSeconds(r.process.pid ?? 0) - (first.sandboxCpu[j] ?? 0)),
      peakMb: peakMb[j] ?? 0
    }))
    const fakesCpu = percent(fakes.reduce((n, f) => n + cpuSeconds(f.pid), 0) - first.fakesCpu)
    const frozen = await Promise.all(fakes.map((f) => f.freeze()))
    const sentPerSec = Math.round((frozen.reduce((n, s) => n + s.updatesSent, 0) - first.sent) / seconds)
    const rows = (await Promise.all(runners.map((r) => committedRows(r.url)))).reduce((a, b) => a + b, 0)
    const rowsPerSec = Math.round((rows - first.rows) / seconds)
    await sleep(SETTLE_MS)
    let keptUp = true
    for (const [i, p] of PROVIDERS.entries()) {
      const { rows: current } = await admin.query<{ n: string }>(
        "SELECT count(DISTINCT symbol) AS n FROM datahub.live_data WHERE provider = $1 AND trades = $2",
        [p, frozen[i]?.lastStamp]
      )
      if (Number(current[0]?.n) !== frozen[i]?.lastStampPairs) keptUp = false
    }
    await Promise.all(fakes.map((f) => f.thaw()))
    return {
      runners: runners.length,
      owners: ownersText,
      sentPerSec,
      committedPerSec: keptUp ? sentPerSec : rowsPerSec,
      rowsPerSec,
      keptUp,
      p50Ms: Math.round(median(sink.latencies)),
      p99Ms: Math.round(percentile(sink.latencies, 99)),
      perRunner,
      fakesCpu,
      clientsCpu: percent((clients.user + clients.system) / 1e6),
      postgresCpu: percent(postgres),
      machineBusyCores:
        Math.round(
          ((machine.busy - first.machine.busy) / (machine.total - first.machine.total)) * cpus().length * 10
        ) / 10
    }
  } finally {
    sink.ending = true
    for (const ws of sockets) ws.terminate()
    if (runners.some((r) => !isAlive(r))) note("a runner died during the throughput measurement")
  }
}

export const describeThroughput = (f: ThroughputFigures) =>
  `${f.runners} runner(s) (${f.owners}): sent ${f.sentPerSec}/s, committed ${f.committedPerSec}/s (${f.keptUp ? "kept up" : "fell behind"}; statement rows ${f.rowsPerSec}/s), update→push p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms\n` +
  `  CPU (% of one core): ${f.perRunner.map((r) => `runner ${r.name} ${r.cpu} + sandboxes ${r.sandbox} (peak RSS ${r.peakMb} MB)`).join(", ")}, fakes ${f.fakesCpu}, /live clients ${f.clientsCpu}, PostgreSQL backends ${f.postgresCpu}; machine busy ${f.machineBusyCores} of ${cpus().length} cores\n`
