/**
 * Registry, DataHub and Trader as child processes. They live in a scope: closing it sends SIGTERM
 * to all, waits up to 10 s for each, then SIGKILLs whatever is left, so the launcher never exits
 * leaving a service (or a port) behind. `firstExit` fails as soon as one of them dies on its own.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Effect } from "effect"
import { LauncherError } from "./LauncherError"
import { forwardLines, type Sink } from "./output"

export type ServiceName = "registry" | "datahub" | "trader"

export interface ServiceSpec {
  readonly name: ServiceName
  readonly port: number
  /** Variables this service alone is given, over the shared ones (the Registry's secret key). */
  readonly env?: NodeJS.ProcessEnv
}

export interface RunningService extends ServiceSpec {
  readonly pid: number | undefined
  /** Resolves once the process has exited and its output has been forwarded. */
  readonly exited: Promise<string>
}

interface Options {
  readonly cwd: string
  readonly watch: boolean
  readonly env: NodeJS.ProcessEnv
  readonly stdout: Sink
  readonly stderr: Sink
}

const STOP_GRACE_MS = 10_000
/** After `exit`, how long to wait for the pipes to drain (a grandchild may hold them open). */
const DRAIN_MS = 1_000

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())

/** Every child still running, so that a second Ctrl-C or a crash of the launcher can kill them. */
const live = new Set<ChildProcess>()

export const killAllNow = (): void => {
  for (const child of live) child.kill("SIGKILL")
}

const tsxCli = (): string => {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve("tsx/package.json")), "dist", "cli.mjs")
}

const commandFor = (name: ServiceName, watch: boolean): ReadonlyArray<string> => {
  const entry = `apps/${name}/src/main.ts`
  // `tsx watch` restarts the service on every change of a file it imports; the launcher stays up.
  return watch ? [tsxCli(), "watch", "--clear-screen=false", entry] : ["--import", "tsx", entry]
}

const describeExit = (code: number | null, signal: NodeJS.Signals | null): string =>
  signal !== null ? `was killed by ${signal}` : `exited with code ${code ?? "?"}`

interface Child extends RunningService {
  readonly child: ChildProcess
}

const start = (spec: ServiceSpec, options: Options): Child => {
  const child = spawn(process.execPath, commandFor(spec.name, options.watch), {
    cwd: options.cwd,
    env: { ...options.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  live.add(child)
  const output = Promise.all([
    forwardLines(child.stdout, spec.name, options.stdout),
    forwardLines(child.stderr, spec.name, options.stderr)
  ])
  const exited = new Promise<string>((resolve) => {
    child.once("error", (e) => {
      live.delete(child)
      resolve(`could not be started: ${e.message}`)
    })
    child.once("exit", (code, signal) => {
      live.delete(child)
      void Promise.race([output, sleep(DRAIN_MS)]).then(() => resolve(describeExit(code, signal)))
    })
  })
  return { ...spec, pid: child.pid, exited, child }
}

const stop = async (service: Child, say: (line: string) => void) => {
  const { child } = service
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
  const outcome = await Promise.race([service.exited, sleep(STOP_GRACE_MS).then(() => null)])
  if (outcome === null) {
    say(`${service.name} did not stop within ${STOP_GRACE_MS / 1000} s; killing it`)
    child.kill("SIGKILL")
    await service.exited
  }
}

/** Starts every service; the scope's end stops them all (concurrently). */
export const spawnAll = (specs: ReadonlyArray<ServiceSpec>, options: Options, say: (line: string) => void) =>
  Effect.acquireRelease(
    Effect.sync(() => specs.map((spec) => start(spec, options))),
    (services) => Effect.promise(() => Promise.all(services.map((s) => stop(s, say))))
  ).pipe(Effect.map((services): ReadonlyArray<RunningService> => services))

/** Fails when the first service exits, naming it and how it ended. */
export const firstExit = (services: ReadonlyArray<RunningService>) =>
  // `raceAll` settles on the first *success*, so each exit is a success until the race is won.
  Effect.raceAll(services.map((s) => Effect.promise(() => s.exited.then((how) => `${s.name} ${how}`)))).pipe(
    Effect.flatMap((what) => Effect.fail(new LauncherError({ message: `${what}; stopping everything` })))
  )
