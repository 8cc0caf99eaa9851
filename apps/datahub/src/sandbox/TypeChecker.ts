/**
 * Type-checks TypeScript uploads in a worker thread: a check takes a few hundred ms of CPU (the
 * first one seconds) and would otherwise stall every request DataHub serves meanwhile. The
 * worker is started on the first check and kept, so its parsed lib files are reused; a check
 * that runs too long (type-level recursion can) is reported and the worker replaced.
 */
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import type { ValidationIssue } from "@quasar/domain"
import { SDK_SPECIFIER, sdkDirectory } from "@quasar/providers"
import { Context, Deferred, Duration, Effect, Exit, Layer, Option } from "effect"
import { build } from "esbuild"
import { SandboxSetupError } from "./errors"
import { seconds } from "./SandboxLimits"
import type { TypeIssue } from "./typecheck"

type Issue = typeof ValidationIssue.Type

const CHECK_TIMEOUT = Duration.seconds(30)

type Answer =
  | { readonly id: number; readonly issues: ReadonlyArray<TypeIssue> }
  | { readonly id: number; readonly failure: string }

/** The worker as one CommonJS script (eval workers run CommonJS, with `require`). */
const bundleWorker = Effect.tryPromise({
  try: async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL("./typecheckWorker.ts", import.meta.url))],
      bundle: true,
      format: "cjs",
      platform: "node",
      target: "node20",
      write: false,
      logLevel: "silent"
    })
    const file = result.outputFiles[0]
    if (!file) throw new Error("esbuild produced no output")
    return file.text
  },
  catch: (e) =>
    new SandboxSetupError({
      message: `cannot bundle the type-check worker (${e instanceof Error ? e.message : String(e)}): check the esbuild install`
    })
})

const make = Effect.gen(function* () {
  const code = yield* Effect.cached(bundleWorker)
  const lock = yield* Effect.makeSemaphore(1)
  const pending = new Map<number, Deferred.Deferred<ReadonlyArray<TypeIssue>, SandboxSetupError>>()
  let worker: Worker | undefined
  let nextId = 0

  const failAll = (message: string) => {
    for (const d of pending.values()) Deferred.unsafeDone(d, Exit.fail(new SandboxSetupError({ message })))
    pending.clear()
  }

  const stop = (w: Worker | undefined) =>
    Effect.promise(async () => {
      if (worker === w) worker = undefined
      await w?.terminate()
    })

  const running = lock.withPermits(1)(
    Effect.gen(function* () {
      if (worker) return worker
      const w = new Worker(yield* code, {
        eval: true,
        workerData: {
          typescript: createRequire(import.meta.url).resolve("typescript"),
          sdkSpecifier: SDK_SPECIFIER,
          sdkEntry: join(fileURLToPath(sdkDirectory), "index.ts")
        }
      })
      // An idle checker must not keep DataHub's process alive at shutdown.
      w.unref()
      w.on("message", (answer: Answer) => {
        const d = pending.get(answer.id)
        pending.delete(answer.id)
        if (!d) return
        if ("issues" in answer) Deferred.unsafeDone(d, Exit.succeed(answer.issues))
        else
          Deferred.unsafeDone(
            d,
            Exit.fail(new SandboxSetupError({ message: `the type checker failed: ${answer.failure}` }))
          )
      })
      w.on("error", (e: unknown) =>
        failAll(`the type checker failed: ${e instanceof Error ? e.message : String(e)}`)
      )
      w.on("exit", (exitCode) => {
        if (worker === w) worker = undefined
        failAll(`the type checker stopped (exit code ${exitCode})`)
      })
      worker = w
      return w
    })
  )

  yield* Effect.addFinalizer(() => stop(worker))

  /** Type errors in `source`; a check that takes too long is itself reported as an issue. */
  const check = (source: string): Effect.Effect<ReadonlyArray<Issue>, SandboxSetupError> =>
    Effect.gen(function* () {
      const w = yield* running
      const id = nextId++
      const answer = yield* Deferred.make<ReadonlyArray<TypeIssue>, SandboxSetupError>()
      pending.set(id, answer)
      w.postMessage({ id, source })
      const issues = yield* Deferred.await(answer).pipe(
        Effect.timeoutOption(CHECK_TIMEOUT),
        Effect.ensuring(Effect.sync(() => pending.delete(id)))
      )
      if (Option.isSome(issues)) return issues.value
      // The worker is stuck in this upload's types: replace it, blame the upload.
      yield* stop(w)
      return [
        {
          severity: "error" as const,
          message: `type-checking did not finish within ${seconds(CHECK_TIMEOUT)}: simplify the types (deeply recursive or huge unions)`
        }
      ]
    }).pipe(Effect.withSpan("TypeChecker.check", { attributes: { bytes: source.length } }))

  return { check } as const
})

export class TypeChecker extends Context.Tag("@quasar/datahub/TypeChecker")<
  TypeChecker,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.scoped(TypeChecker, make)
}
