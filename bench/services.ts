/**
 * Starts Registry and DataHub (and Trader, when asked) as real child processes on one database, from the production
 * bundles (as the Docker images run them), so a benchmark measures the service as deployed —
 * including its peak RSS, read from /proc — and not a test harness.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { freePort } from "@quasar/server/node"

export const ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"

export const waitHealthy = async (url: string, timeoutMs = 120_000) => {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false
    )
    if (ok) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`${url} did not become healthy within ${timeoutMs / 1000} s`)
}

/** Resident and peak resident memory of a process, MB (Linux /proc). */
export const rssOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { rssMb: Math.round(kb("VmRSS") / 1024), peakMb: Math.round(kb("VmHWM") / 1024) }
}

/** CPU seconds a process has used (Linux /proc, user + system). */
export const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** CPU seconds a process's waited-for children have used (its finished sandboxes, say). */
const childCpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[13]) + Number(fields[14])) / 100
}

/** Busy CPU seconds of the whole machine, every core (Linux /proc/stat). */
const machineCpuSeconds = () => {
  const [, ...jiffies] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/)
  const [user, nice, system, , , irq, softirq] = jiffies.map(Number)
  return (user! + nice! + system! + irq! + softirq!) / 100
}

/** CPU seconds of every PostgreSQL process now running (its backends and its own workers). */
const postgresCpuSeconds = () =>
  readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .reduce((sum, pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
        return stat.includes("(postgres)") ? sum + cpuSeconds(Number(pid)) : sum
      } catch {
        return sum
      }
    }, 0)

/**
 * Where CPU time goes during a run: Trader, its sandboxes (those still running, and those it has
 * reaped), DataHub, PostgreSQL's processes, and the machine in all.
 */
export const cpuSnapshot = (traderPid: number, datahubPid: number) => ({
  at: performance.now(),
  machine: machineCpuSeconds(),
  trader: cpuSeconds(traderPid),
  sandbox: childCpuSeconds(traderPid) + sandboxCpuSeconds(traderPid),
  datahub: cpuSeconds(datahubPid),
  postgres: postgresCpuSeconds()
})

export const cpuSpent = (before: ReturnType<typeof cpuSnapshot>, after: ReturnType<typeof cpuSnapshot>) => {
  const d = (key: "machine" | "trader" | "sandbox" | "datahub" | "postgres") => after[key] - before[key]
  const rest = d("machine") - d("trader") - d("sandbox") - d("datahub") - d("postgres")
  return `CPU over ${((after.at - before.at) / 1000).toFixed(2)} s: machine ${d("machine").toFixed(2)} s = Trader ${d("trader").toFixed(2)} + sandbox ${d("sandbox").toFixed(2)} + DataHub ${d("datahub").toFixed(2)} + PostgreSQL ${d("postgres").toFixed(2)} + rest ${rest.toFixed(2)}`
}

/** The processes `pid` started (Linux /proc): a service's sandbox children. */
const childrenOf = (pid: number): Array<number> => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

/** Every process below `pid` (a sandbox's node runs below its `unshare`). */
const descendantsOf = (pid: number): Array<number> =>
  childrenOf(pid).flatMap((child) => [child, ...descendantsOf(child)])

/** Each running sandbox process's CPU seconds so far, by pid: sampled while a run goes on. */
export const sandboxCpuByPid = (pid: number): Map<number, number> =>
  new Map(
    descendantsOf(pid).flatMap((child) => {
      try {
        return [[child, cpuSeconds(child)] as const]
      } catch {
        return []
      }
    })
  )

/** CPU seconds of a service's sandbox processes. */
export const sandboxCpuSeconds = (pid: number) =>
  descendantsOf(pid).reduce((sum, child) => {
    try {
      return sum + cpuSeconds(child)
    } catch {
      return sum
    }
  }, 0)

/** Resident memory of a service's sandbox processes together, MB. */
export const sandboxRssMb = (pid: number) =>
  descendantsOf(pid).reduce((sum, child) => {
    try {
      return sum + rssOf(child).rssMb
    } catch {
      return sum
    }
  }, 0)

export interface Services {
  readonly registryUrl: string
  readonly datahubUrl: string
  readonly datahub: ChildProcess
  /** Present when started with `{ trader: true }`. */
  readonly trader: { readonly url: string; readonly process: ChildProcess } | undefined
  readonly stop: () => Promise<void>
}

/** The production bundles (`npm run build:services`), built once per benchmark process. */
let built: Promise<void> | undefined
export const buildServices = () => {
  built ??= new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/build-services.ts"], {
      stdio: "inherit"
    })
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`build-services exited ${code}`))
    )
  })
  return built
}

export interface ServicePorts {
  readonly registry: number
  readonly datahub: number
  readonly trader: number
}

/** The environment every service process runs with (as the production compose file sets it). */
export const serviceEnv = (databaseUrl: string, ports: ServicePorts): NodeJS.ProcessEnv => ({
  ...process.env,
  DATABASE_URL: databaseUrl,
  REGISTRY_PORT: String(ports.registry),
  DATAHUB_PORT: String(ports.datahub),
  TRADER_PORT: String(ports.trader),
  REGISTRY_URL: `http://127.0.0.1:${ports.registry}`,
  DATAHUB_URL: `http://127.0.0.1:${ports.datahub}`,
  HOST: "127.0.0.1",
  QUASAR_ADMIN_TOKEN: ADMIN_TOKEN,
  QUASAR_SERVICE_TOKEN: "bench-service-token-0123456789abcdef",
  // The fake Kraken runs on a loopback port; the database's and the services' own ports stay
  // closed to sandboxed code all the same.
  QUASAR_SANDBOX_ALLOW_HOSTS: "127.0.0.1",
  // BENCH_LOG_LEVEL=INFO (or DEBUG) shows the services' logs, which otherwise go nowhere.
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "WARN",
  // The heap flags the production image runs with (ops/docker/service.Dockerfile).
  NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? "--max-old-space-size=192 --max-semi-space-size=8"
})

/** Starts `dist/<service>.mjs` (built by `buildServices`) with `env`. */
export const spawnService = (service: string, env: NodeJS.ProcessEnv) =>
  spawn(
    process.execPath,
    // BENCH_<SERVICE>_NODE_ARGS: extra Node flags for one service (e.g.
    // BENCH_TRADER_NODE_ARGS=--cpu-prof when profiling Trader).
    [
      ...(process.env[`BENCH_${service.toUpperCase()}_NODE_ARGS`] ?? "").split(" ").filter(Boolean),
      `dist/${service}.mjs`
    ],
    {
      // Only the Registry opens provider secrets: the other services are never given the key.
      env: service === "registry" ? { ...env, QUASAR_SECRET_KEY: "bench-secret-key" } : env,
      stdio: ["ignore", process.env.BENCH_LOG_LEVEL ? "inherit" : "ignore", "inherit"]
    }
  )

export const startServices = async (
  databaseUrl: string,
  options: { readonly trader?: boolean } = {}
): Promise<Services> => {
  await buildServices()
  const ports = { registry: await freePort(), datahub: await freePort(), trader: await freePort() }
  const traderUrl = `http://127.0.0.1:${ports.trader}`
  const registryUrl = `http://127.0.0.1:${ports.registry}`
  const datahubUrl = `http://127.0.0.1:${ports.datahub}`
  const env = serviceEnv(databaseUrl, ports)
  const start = (service: string) => spawnService(service, env)
  const datahub = start("datahub")
  const registry = start("registry")
  const trader = options.trader ? start("trader") : undefined
  const all = trader ? [registry, datahub, trader] : [registry, datahub]
  await Promise.all([
    waitHealthy(registryUrl),
    waitHealthy(datahubUrl),
    ...(trader ? [waitHealthy(traderUrl)] : [])
  ])
  const stop = async () => {
    for (const child of all) child.kill("SIGTERM")
    await Promise.all(
      all.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : undefined))
    )
  }
  return {
    registryUrl,
    datahubUrl,
    datahub,
    trader: trader ? { url: traderUrl, process: trader } : undefined,
    stop
  }
}
