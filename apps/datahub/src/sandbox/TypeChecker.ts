/**
 * Type-checks TypeScript uploads in a worker thread: a check takes a few hundred ms of CPU (the
 * first one seconds) and would otherwise stall every request DataHub serves meanwhile. The
 * worker is started on the first check and kept, so its parsed lib files are reused. It runs
 * under its own heap cap (`resourceLimits`) and reads no file but the lib and SDK ones (see
 * typecheck.ts); a check that runs too long or out of memory (type-level recursion can) is
 * reported as an issue of the upload and the worker replaced. Checks go one at a time, so the
 * upload blamed is the one that did it.
 */
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import type { ValidationIssue } from "@quasar/domain"
import { SDK_SPECIFIER, sdkDirectory } from "@quasar/providers"
import { SandboxLimits, SandboxSetupError, seconds } from "@quasar/sandbox"
import { build } from "@quasar/sandbox/node"
import { Context, Deferred, Effect, Exit, Layer, Option } from "effect"
import type { TypeIssue } from "./typecheck"

type Issue = typeof ValidationIssue.Type

type Answer =
  | { readonly id: number; readonly issues: ReadonlyArray<TypeIssue> }
  | { readonly id: number; readonly failure: string }

/** The worker as one CommonJS script (eval workers run CommonJS, with `require`). */
const bundleWorker = Effect.tryPromise({
  try: async () => {
    const result = await build(
      {
        entryPoints: [fileURLToPath(new URL("./typecheckWorker.ts", import.meta.url))],
        bundle: true,
        format: "cjs",
        platform: "node",
        target: "node20",
        write: false,
        logLevel: "silent"
      },
      "the type-check worker"
    )
    const file = result.outputFiles[0]
    if (!file) throw new Error("esbuild produced no output")
    return file.text
  },
  catch: (e) =>
    new SandboxSetupError({
      message: `cannot bundle the type-check worker (${e instanceof Error ? e.message : String(e)}): check the esbuild install`
    })
})

const issue = (message: string): ReadonlyArray<TypeIssue> => [{ severity: "error", message }]

const make = Effect.gen(function* () {
  const limits = yield* SandboxLimits
  const code = yield* Effect.cached(bundleWorker)
  const lock = yield* Effect.makeSemaphore(1)
  const oneAtATime = yield* Effect.makeSemaphore(1)
  const pending = new Map<number, Deferred.Deferred<ReadonlyArray<TypeIssue>, SandboxSetupError>>()
  let worker: Worker | undefined
  let nextId = 0

  const failAll = (message: string) => {
    for (const d of pending.values()) Deferred.unsafeDone(d, Exit.fail(new SandboxSetupError({ message })))
    pending.clear()
  }
  /** The check under way caused this: it gets `issues` as its answer. */
  const blameAll = (issues: ReadonlyArray<TypeIssue>) => {
    for (const d of pending.values()) Deferred.unsafeDone(d, Exit.succeed(issues))
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
        resourceLimits: {
          maxOldGenerationSizeMb: limits.checkerHeapMb,
          maxYoungGenerationSizeMb: Math.max(4, Math.round(limits.checkerHeapMb / 16)),
          stackSizeMb: 4
        },
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
        // The compiler throwing on one upload (a stack overflow on deep nesting) is that upload's issue.
        else Deferred.unsafeDone(d, Exit.succeed(issue(`type-checking failed: ${answer.failure}`)))
      })
      w.on("error", (e: unknown) => {
        if ((e as { code?: unknown } | null)?.code === "ERR_WORKER_OUT_OF_MEMORY")
          blameAll(
            issue(
              `type-checking ran out of memory (${limits.checkerHeapMb} MB): simplify the types (deeply recursive or huge unions)`
            )
          )
        else failAll(`the type checker failed: ${e instanceof Error ? e.message : String(e)}`)
      })
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
        Effect.timeoutOption(limits.checkTimeout),
        Effect.ensuring(Effect.sync(() => pending.delete(id)))
      )
      if (Option.isSome(issues)) return issues.value
      // The worker is stuck in this upload's types: replace it, blame the upload.
      yield* stop(w)
      return [
        {
          severity: "error" as const,
          message: `type-checking did not finish within ${seconds(limits.checkTimeout)}: simplify the types (deeply recursive or huge unions)`
        }
      ]
    }).pipe(
      oneAtATime.withPermits(1),
      Effect.tap((issues) =>
        issues.length > 0 && /^type-checking (did not finish|ran out|failed)/.test(issues[0]?.message ?? "")
          ? Effect.logWarning("type check stopped on an upload").pipe(
              Effect.annotateLogs({ reason: issues[0]?.message })
            )
          : Effect.void
      ),
      Effect.withSpan("TypeChecker.check", { attributes: { bytes: source.length } })
    )

  return { check } as const
})

export class TypeChecker extends Context.Tag("@quasar/datahub/TypeChecker")<
  TypeChecker,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.scoped(TypeChecker, make)
}
