/**
 * Helpers for process-level tests: spawn a Node entry point the way a user would, capture its
 * output, wait for HTTP answers, and make sure nothing outlives the test (`killLeftovers` in an
 * `afterEach`, which also SIGKILLs pids the test learned about, e.g. the launcher's children).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { request } from "node:http"
import { fileURLToPath } from "node:url"
import { freePort } from "@quasar/server/node"

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url))

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface Spawned {
  readonly child: ChildProcess
  readonly pid: number
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<Exit>
}

const running = new Set<Spawned>()
const extraPids = new Set<number>()

export { freePort }

/**
 * Loopback ports, URLs, fresh tokens and the environment for a Registry and a DataHub run as
 * processes on `databaseUrl`, sharing `dataDir`.
 */
export const servicePair = async (databaseUrl: string, dataDir: string) => {
  const [registryPort, datahubPort] = [await freePort(), await freePort()]
  const registryUrl = `http://127.0.0.1:${registryPort}`
  const datahubUrl = `http://127.0.0.1:${datahubPort}`
  const adminToken = randomBytes(32).toString("base64url")
  const serviceToken = randomBytes(32).toString("base64url")
  const env: Record<string, string> = {
    HOST: "127.0.0.1",
    REGISTRY_PORT: String(registryPort),
    DATAHUB_PORT: String(datahubPort),
    REGISTRY_URL: registryUrl,
    DATAHUB_URL: datahubUrl,
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: "5",
    QUASAR_DATA_DIR: dataDir,
    QUASAR_ADMIN_TOKEN: adminToken,
    QUASAR_SERVICE_TOKEN: serviceToken,
    LOG_LEVEL: "Warn"
  }
  // Only the Registry opens provider secrets: the other services are never given the key.
  const registryEnv = { ...env, QUASAR_SECRET_KEY: randomBytes(32).toString("hex") }
  return { registryPort, datahubPort, registryUrl, datahubUrl, adminToken, serviceToken, env, registryEnv }
}

/** `node --import tsx <entry> ...args` from the repository root. */
export const spawnTsx = (entry: string, env: Record<string, string>, args: ReadonlyArray<string> = []) => {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  let err = ""
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    out += s
  })
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    err += s
  })
  const exited = new Promise<Exit>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }))
  })
  const spawned: Spawned = {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exited
  }
  running.add(spawned)
  void exited.then(() => running.delete(spawned))
  return spawned
}

/** Remember a pid to SIGKILL after the test if it is still alive (grandchildren). */
export const track = (pid: number) => extraPids.add(pid)

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export const within = <A>(ms: number, what: string, promise: Promise<A>): Promise<A> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
    promise.then(
      (a) => {
        clearTimeout(timer)
        resolve(a)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e)
      }
    )
  })

export const killLeftovers = async () => {
  for (const spawned of running) spawned.child.kill("SIGKILL")
  await Promise.all([...running].map((s) => s.exited))
  for (const pid of extraPids) {
    if (isAlive(pid)) process.kill(pid, "SIGKILL")
  }
  extraPids.clear()
}

export interface Answer {
  readonly status: number
  readonly body: string
  readonly headers: Record<string, string | Array<string> | undefined>
}

/** One GET (no keep-alive, so a stopping server is not held open by the test). */
export const get = (url: string, timeoutMs = 10_000): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (s: string) => {
        body += s
      })
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
      res.on("error", reject)
    })
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)))
    req.on("error", reject)
    req.end()
  })

/** Polls `url` until it answers 200; fails after `timeoutMs` with the last answer or error. */
export const waitFor200 = async (url: string, timeoutMs: number, owner?: Spawned): Promise<number> => {
  const started = Date.now()
  let last = "no answer"
  while (Date.now() - started < timeoutMs) {
    if (owner && owner.child.exitCode !== null) {
      throw new Error(
        `exited with ${owner.child.exitCode} before ${url} answered:\n${owner.stderr()}\n${owner.stdout().slice(-4000)}`
      )
    }
    try {
      const answer = await get(url, 2_000)
      if (answer.status === 200) return Date.now() - started
      last = `${answer.status} ${answer.body.slice(0, 200)}`
    } catch (e) {
      last = String(e)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`)
}
