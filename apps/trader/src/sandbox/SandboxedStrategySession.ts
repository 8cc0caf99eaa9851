/**
 * The production StrategySession: each deployment's strategy runs in a sandbox child of its own
 * (the same runner, limits and isolation as backtests, no network at all), in the runner's live
 * mode, for as long as the deployment runs: closing the session's scope stops the child. Every
 * call has a wall-clock limit; a child that passes it, dies or answers nonsense fails the session
 * (and so the deployment), with the reason.
 */
import { SandboxLimits, type SandboxLimitValues, seconds } from "@quasar/sandbox"
import { type QuotaOptions, SandboxQuota } from "@quasar/sandbox/node"
import { Duration, Effect, Layer, Option } from "effect"
import { type LiveStrategy, StrategyFailed, StrategySession } from "../deploy/StrategySession"
import type { LiveDecision } from "../engine/LiveRun"
import type { HostMessage, LiveAccountMessage } from "./protocol"
import { liveClock, strategySandbox, strategyWorkspace } from "./strategyChild"

export interface SandboxedSessionOptions {
  /** The longest one `onBar` call (or warm-up) may take; past it the child is killed. */
  readonly callLimit?: Duration.DurationInput
  readonly limits?: Partial<SandboxLimitValues>
  readonly quota?: QuotaOptions
}

/** A live strategy holds a window per symbol, not a whole history: a provider child's share is plenty. */
const SESSION_LIMITS: Partial<SandboxLimitValues> = { heapMb: 128, rssMb: 384 }
const DEFAULT_CALL_LIMIT = Duration.seconds(10)

const make = (options: SandboxedSessionOptions) =>
  Effect.gen(function* () {
    const sandbox = yield* strategySandbox
    const callLimit = Duration.decode(options.callLimit ?? DEFAULT_CALL_LIMIT)

    return StrategySession.of({
      open: (code, params) =>
        Effect.gen(function* () {
          const label = `deployment of ${code.name} v${code.version}`
          const failed = (message: string) => new StrategyFailed({ message })
          const child = yield* sandbox
            .startChild({
              label,
              owner: { strategy: code.name },
              source: code.source,
              language: code.language,
              // A live child waits between bars: pings find it blocked if onBar never returns.
              heartbeat: true
            })
            .pipe(
              Effect.mapError((e) =>
                failed(
                  e._tag === "Build"
                    ? `${code.name} version ${code.version} does not build: ${e.message}`
                    : e._tag === "Load"
                      ? `${code.name} version ${code.version} did not load: ${e.message}`
                      : `the sandbox could not start: ${e.message}`
                )
              )
            )

          const call = (message: (id: number) => HostMessage) => {
            const id = child.nextId()
            return child.exchange(id, message(id)).pipe(
              Effect.mapError((reason) => failed(`the strategy's sandbox stopped: it ${reason}`)),
              Effect.timeoutOption(callLimit),
              Effect.flatMap(
                Option.match({
                  onSome: Effect.succeed,
                  onNone: () => {
                    const reason = `ran longer than its limit of ${seconds(callLimit)} for one call`
                    return Effect.zipRight(child.kill(reason), Effect.fail(failed(`the strategy ${reason}`)))
                  }
                })
              )
            )
          }
          const malformed = (tag: string) => {
            const reason = `sent a malformed message (${tag})`
            return Effect.zipRight(
              child.kill(reason),
              Effect.fail(failed(`the strategy's sandbox ${reason}`))
            )
          }

          const ready = yield* call((id) => ({ _tag: "Live", id, params }))
          if (ready._tag === "Refused")
            return yield* failed(`the strategy cannot run: ${ready.problems.join("; ")}`)
          if (ready._tag !== "LiveReady") return yield* malformed(ready._tag)
          yield* Effect.addFinalizer(() => child.stop("the deployment stopped"))

          const session: LiveStrategy = {
            warm: (bars) =>
              Effect.flatMap(
                call((id) => ({ _tag: "Feed", id, bars })),
                (reply) => (reply._tag === "Taken" ? Effect.void : malformed(reply._tag))
              ).pipe(Effect.withClock(liveClock)),
            decide: (bars, view) => {
              const account: LiveAccountMessage = {
                cash: view.cash,
                positions: [...view.positions].map(
                  ([symbol, p]) => [symbol, p.quantity, p.averagePrice] as const
                ),
                openOrders: view.openOrders.map((o) => ({
                  id: o.id,
                  symbol: o.symbol,
                  side: o.side,
                  type: o.type,
                  ...(o.quantity !== undefined && { quantity: o.quantity }),
                  ...(o.limitPrice !== undefined && { limitPrice: o.limitPrice }),
                  ...(o.stopPrice !== undefined && { stopPrice: o.stopPrice }),
                  placedAt: o.placedAt
                })),
                nextOrderId: view.nextOrderId
              }
              return Effect.flatMap(
                call((id) => ({ _tag: "Feed", id, bars, account })),
                (reply): Effect.Effect<LiveDecision, StrategyFailed> => {
                  if (reply._tag === "Threw") return Effect.fail(failed(reply.message))
                  if (reply._tag !== "Decision") return malformed(reply._tag)
                  // The deployment's reducer checks every field of every order before an account sees it.
                  return Effect.succeed(reply as unknown as LiveDecision)
                }
              ).pipe(Effect.withClock(liveClock))
            }
          }
          return session
        }).pipe(Effect.withClock(liveClock))
    })
  })

export const SandboxedStrategySession = {
  layer: (options: SandboxedSessionOptions = {}) =>
    Layer.effect(StrategySession, make(options)).pipe(
      Layer.provide(
        Layer.mergeAll(strategyWorkspace, SandboxQuota.layer(options.quota ?? {})).pipe(
          Layer.provideMerge(SandboxLimits.layer({ ...SESSION_LIMITS, ...options.limits }))
        )
      )
    )
} as const
