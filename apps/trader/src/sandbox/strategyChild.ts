/**
 * What backtests and live deployments share to run a strategy in a sandbox child: the bundled
 * strategy runner (`strategyWorkspace`), the sandbox's limits, quota and isolation, and the start
 * of one child for one strategy module: bundled with the SDK inlined, placed in a directory of its
 * own, its log lines turned into Trader's structured logs. The limits guard a real process, so
 * callers run them on the real clock (`liveClock`), also where a test controls time.
 */
import { fileURLToPath } from "node:url"
import { logAtLevel, SandboxLimits } from "@quasar/sandbox"
import {
  bundleUpload,
  detectIsolation,
  logIsolation,
  type Relay,
  SandboxQuota,
  SandboxWorkspace,
  start
} from "@quasar/sandbox/node"
import { Clock, Effect, Runtime } from "effect"
import { type ChildMessage, decodeChildMessage, type HostMessage } from "./protocol"

/** The strategy runner, bundled into each child's directory. */
export const strategyWorkspace = SandboxWorkspace.layer(
  fileURLToPath(new URL("./strategyRunner.ts", import.meta.url))
)

export const liveClock = Clock.make()

/** Why a strategy's child did not start: its module does not build, the sandbox failed, or the module did not load. */
export type StartFailure =
  | { readonly _tag: "Build"; readonly message: string }
  | { readonly _tag: "Setup"; readonly message: string }
  | { readonly _tag: "Load"; readonly message: string }

export interface StrategyChildOptions {
  readonly label: string
  readonly owner: Readonly<Record<string, string>>
  readonly source: string
  readonly language: "typescript" | "javascript"
  /** Ping the child while it lives (a live child waits between bars). */
  readonly heartbeat: boolean
  readonly relay?: (send: (message: HostMessage) => void) => Relay<ChildMessage>
}

/**
 * The sandbox environment, read once per layer: `startChild` starts one strategy child in it
 * (scoped: closing the scope stops the child).
 */
export const strategySandbox = Effect.gen(function* () {
  const workspace = yield* SandboxWorkspace
  const limits = yield* SandboxLimits
  const quota = yield* SandboxQuota
  const isolation = yield* detectIsolation
  yield* logIsolation(isolation)

  const startChild = (options: StrategyChildOptions) =>
    Effect.gen(function* () {
      const { label } = options
      const bundled = yield* bundleUpload(options.source, options.language, "strategy").pipe(
        Effect.mapError(
          (issues): StartFailure => ({
            _tag: "Build",
            message: issues
              .map((i) => (i.line === undefined ? i.message : `${i.message} (line ${i.line})`))
              .join("; ")
          })
        )
      )
      const directory = yield* workspace
        .prepare(label, bundled.code)
        .pipe(Effect.mapError((e): StartFailure => ({ _tag: "Setup", message: e.message })))
      const runFork = Runtime.runFork(yield* Effect.runtime<never>())
      return yield* start<ChildMessage, HostMessage>({
        label,
        owner: options.owner,
        directory,
        isolation,
        heartbeat: options.heartbeat,
        decode: decodeChildMessage,
        onLog: (log, message, fields) =>
          runFork(logAtLevel[log.level](message).pipe(Effect.annotateLogs({ sandbox: label, ...fields }))),
        ...(options.relay === undefined ? {} : { relay: options.relay })
      }).pipe(
        // The directory is the child's to read: the host may put files there for it (a run's bars).
        Effect.map((child) => ({ ...child, directory })),
        Effect.provideService(SandboxLimits, limits),
        Effect.provideService(SandboxQuota, quota),
        Effect.mapError(
          (e): StartFailure => ({
            _tag: e._tag === "SandboxLoadError" ? "Load" : "Setup",
            message: e.message
          })
        )
      )
    })

  return { startChild }
})
