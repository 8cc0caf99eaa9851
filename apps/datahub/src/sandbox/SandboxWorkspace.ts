/**
 * The directories children run in. At start DataHub bundles the runner once into a private temp
 * root; each sandbox then gets its own directory holding a copy of the runner and its bundled
 * module, which is all its `--allow-fs-read` lets it see. Everything is removed on shutdown.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Layer, type Scope } from "effect"
import { bundleRunner } from "./bundle"
import { SandboxSetupError } from "./errors"

export const RUNNER_FILE = "runner.mjs"
export const MODULE_FILE = "provider.mjs"

export interface SandboxWorkspaceService {
  /** A fresh directory with the runner and `code`, removed when the scope closes. */
  readonly prepare: (label: string, code: string) => Effect.Effect<string, SandboxSetupError, Scope.Scope>
}

const setupError = (what: string) => (e: unknown) =>
  new SandboxSetupError({
    message: `${what}: ${e instanceof Error ? e.message : String(e)}; check that the temp directory (${tmpdir()}) is writable`
  })

const safe = (label: string) => label.replace(/[^a-zA-Z0-9_-]+/g, "-").slice(0, 60)

const make = Effect.gen(function* () {
  const root = yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => mkdtemp(join(tmpdir(), "quasar-sandbox-")),
      catch: setupError("cannot create the sandbox directory")
    }),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })).pipe(Effect.ignore)
  )
  const runner = join(root, RUNNER_FILE)
  const bytes = yield* bundleRunner(runner)
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

export class SandboxWorkspace extends Context.Tag("@quasar/datahub/SandboxWorkspace")<
  SandboxWorkspace,
  SandboxWorkspaceService
>() {
  static readonly layer = Layer.scoped(SandboxWorkspace, make)
}
