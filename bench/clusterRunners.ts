/**
 * DataHub runners of one cluster for the `cluster` benchmark: the production bundle started once
 * per runner with its own HTTP port and `QUASAR_CLUSTER_RUNNER_ADDRESS`, killed with SIGKILL and
 * restarted on the same ports, and asked on `/health` which providers it owns.
 *
 * `predictOwner` computes the shard assignment the runners will compute (a provider's singleton
 * `datahub/provider/<name>` → shard by @effect/cluster's string hash → runner by its hash ring of
 * runner addresses), so the benchmark can choose ports that give two providers two runners; what
 * the runners report is checked all the same.
 */
import type { ChildProcess } from "node:child_process"
import { RunnerAddress } from "@effect/cluster/RunnerAddress"
import { freePort } from "@quasar/server/node"
import { HashRing } from "effect"
import { spawnService, waitHealthy } from "./services"

export interface Runner {
  /** The cluster address, `127.0.0.1:<port>`: the runner's name in `/health` and `provider_owners`. */
  readonly name: string
  readonly url: string
  readonly httpPort: number
  readonly clusterPort: number
  process: ChildProcess
}

export const isAlive = (runner: Runner) =>
  runner.process.exitCode === null && runner.process.signalCode === null

const spawnRunner = (env: NodeJS.ProcessEnv, runner: Omit<Runner, "process">) =>
  spawnService("datahub", {
    ...env,
    DATAHUB_PORT: String(runner.httpPort),
    QUASAR_CLUSTER_RUNNER_ADDRESS: runner.name
  })

/** Starts a runner on the given ports (free ones by default) and waits until it answers. */
export const startRunner = async (
  env: NodeJS.ProcessEnv,
  ports: { readonly http?: number; readonly cluster?: number } = {}
): Promise<Runner> => {
  const httpPort = ports.http ?? (await freePort())
  const clusterPort = ports.cluster ?? (await freePort())
  const base = {
    name: `127.0.0.1:${clusterPort}`,
    url: `http://127.0.0.1:${httpPort}`,
    httpPort,
    clusterPort
  }
  const runner: Runner = { ...base, process: spawnRunner(env, base) }
  await waitHealthy(runner.url)
  return runner
}

/** `kill -9`: the runner neither releases its shards nor removes its heartbeat. */
export const killRunner = (runner: Runner) =>
  new Promise<void>((resolve) => {
    if (!isAlive(runner)) return resolve()
    runner.process.once("exit", () => resolve())
    runner.process.kill("SIGKILL")
  })

/** The same runner (ports, name) in a new process. */
export const restartRunner = async (env: NodeJS.ProcessEnv, runner: Runner) => {
  runner.process = spawnRunner(env, runner)
  await waitHealthy(runner.url)
}

export const stopRunners = async (runners: ReadonlyArray<Runner>) => {
  const running = runners.filter(isAlive)
  const exited = running.map((r) => new Promise((resolve) => r.process.once("exit", resolve)))
  for (const r of running) r.process.kill("SIGTERM")
  await Promise.all(exited)
}

interface HealthCluster {
  readonly cluster?: { readonly runner: string; readonly providers: ReadonlyArray<string> }
}

/** Which live runners report owning each provider on `/health` (one each, when all is well). */
export const ownersOf = async (runners: ReadonlyArray<Runner>) => {
  const byProvider = new Map<string, Array<string>>()
  await Promise.all(
    runners.filter(isAlive).map(async (r) => {
      const report = await fetch(`${r.url}/health`, { signal: AbortSignal.timeout(2_000) })
        .then((res) => res.json() as Promise<HealthCluster>)
        .catch(() => undefined)
      for (const p of report?.cluster?.providers ?? [])
        byProvider.set(p, [...(byProvider.get(p) ?? []), r.name])
    })
  )
  return byProvider
}

/** @effect/cluster's shard-id hash of an entity id (its `internal/hash.ts`, which it does not export). */
const hashString = (text: string) => {
  let h = 5381
  for (let i = text.length; i > 0; ) h = (h * 33) ^ text.charCodeAt(--i)
  return (h & 0xbfffffff) | ((h >>> 1) & 0x40000000)
}

/** ShardingConfig's default `shardsPerGroup`, which DataHub keeps. */
const SHARDS_PER_GROUP = 300

/** The runner (of `names`, `host:port`) the cluster gives `provider`'s singleton. */
export const predictOwner = (names: ReadonlyArray<string>, provider: string) => {
  const ring = HashRing.make<RunnerAddress>()
  for (const name of names) {
    const [host, port] = name.split(":")
    HashRing.add(ring, new RunnerAddress({ host: host ?? "", port: Number(port) }), { weight: 1 })
  }
  const shard = Math.abs(hashString(`datahub/provider/${provider}`) % SHARDS_PER_GROUP)
  const owner = HashRing.getShards(ring, SHARDS_PER_GROUP)?.[shard]
  return owner === undefined ? undefined : `${owner.host}:${owner.port}`
}
