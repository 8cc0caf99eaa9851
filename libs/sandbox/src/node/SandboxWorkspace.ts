/**
 * The directories children run in. At start the host bundles its runner (the app's child program)
 * once into a private temp root; each sandbox then gets its own directory holding a copy of the
 * runner and its bundled module, which is all its `--allow-fs-read` lets it see. Everything is
 * removed on shutdown (also when the process exits without running finalizers), and roots left by
 * a service that was killed outright are removed at the next start: each root names its owner's pid.
 */
import { rmSync } from "node:fs"
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Layer, type Scope } from "effect"
import { SandboxSetupError } from "../errors"
import { bundleRunner } from "./bundle"

export const RUNNER_FILE = "runner.mjs"
export const MODULE_FILE = "module.mjs"

export interface SandboxWorkspaceService {
  /** A fresh directory with the runner and `code`, removed when the scope closes. */
  readonly prepare: (label: string, code: string) => Effect.Effect<string, SandboxSetupError, Scope.Scope>
}

const setupError = (what: string) => (e: unknown) =>
  new SandboxSetupError({
    message: `${what}: ${e instanceof Error ? e.message : String(e)}; check that the temp directory (${tmpdir()}) is writable`
  })

const ROOT_PREFIX = "quasar-sandbox-"
const OWNER_FILE = "owner.pid"
/**
 * A root without an owner file is being created right now, or belongs to a service that predates
 * owner files and may still run: removed only once it is older than this.
 */
const UNOWNED_GRACE_MS = 24 * 3_600_000

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Whether `dir`, a sandbox root, belongs to no running service. */
const isStale = async (dir: string): Promise<boolean> => {
  const owner = await readFile(join(dir, OWNER_FILE), "utf8").catch(() => undefined)
  if (owner === undefined) return Date.now() - (await stat(dir)).mtimeMs > UNOWNED_GRACE_MS
  const pid = Number(owner.trim())
  return !Number.isInteger(pid) || pid <= 0 || !alive(pid)
}

/** Removes the roots of services that died without cleaning up; returns how many. */
export const removeStaleRoots = (parent: string = tmpdir()): Effect.Effect<number> =>
  Effect.promise(async () => {
    const names = await readdir(parent).catch(() => [] as Array<string>)
    let removed = 0
    for (const name of names.filter((n) => n.startsWith(ROOT_PREFIX))) {
      const dir = join(parent, name)
      const stale = await isStale(dir).catch(() => false)
      if (
        stale &&
        (await rm(dir, { recursive: true, force: true }).then(
          () => true,
          () => false
        ))
      )
        removed++
    }
    return removed
  })

const safe = (label: string) => label.replace(/[^a-zA-Z0-9_-]+/g, "-").slice(0, 60)

const make = (runnerEntry: string) =>
  Effect.gen(function* () {
    const stale = yield* removeStaleRoots()
    if (stale > 0)
      yield* Effect.logInfo("removed sandbox directories left by a service that did not stop cleanly").pipe(
        Effect.annotateLogs({ removed: stale })
      )
    const root = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const dir = await mkdtemp(join(tmpdir(), ROOT_PREFIX))
          await writeFile(join(dir, OWNER_FILE), String(process.pid))
          // A forced exit (a second signal, a shutdown past its grace period) skips finalizers.
          const onExit = () => rmSync(dir, { recursive: true, force: true })
          process.once("exit", onExit)
          return { dir, onExit }
        },
        catch: setupError("cannot create the sandbox directory")
      }),
      ({ dir, onExit }) =>
        Effect.promise(() => rm(dir, { recursive: true, force: true })).pipe(
          Effect.ignore,
          Effect.ensuring(Effect.sync(() => process.removeListener("exit", onExit)))
        )
    ).pipe(Effect.map(({ dir }) => dir))
    const runner = join(root, RUNNER_FILE)
    const bytes = yield* bundleRunner(runnerEntry, runner)
    yield* Effect.logDebug("sandbox runner bundled").pipe(Effect.annotateLogs({ root, bytes }))
    let next = 0

    const prepare = (label: string, code: string) =>
      Effect.acquireRelease(
        Effect.tryPromise({
          try: async () => {
            const dir = join(root, `${safe(label)}-${next++}`)
            await mkdir(dir)
            await copyFile(runner, join(dir, RUNNER_FILE))
            await writeFile(join(dir, MODULE_FILE), code)
            return dir
          },
          catch: setupError(`cannot prepare a sandbox directory for ${label}`)
        }),
        (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })).pipe(Effect.ignore)
      )

    return { prepare } satisfies SandboxWorkspaceService
  })

export class SandboxWorkspace extends Context.Tag("@quasar/sandbox/SandboxWorkspace")<
  SandboxWorkspace,
  SandboxWorkspaceService
>() {
  /** `runnerEntry`: the path of the app's child program (a TypeScript file, bundled at start). */
  static readonly layer = (runnerEntry: string) => Layer.scoped(SandboxWorkspace, make(runnerEntry))
}
