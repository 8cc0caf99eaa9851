/**
 * Where a deployment's strategy code runs, bar by bar, for as long as the deployment runs. A
 * session is opened for one strategy version and params; `warm` feeds closed bars to its windows
 * and indicators only, `decide` calls `onBar` with the account's view and gives back the orders
 * and cancels for the deployment's reducer. The in-process session runs trusted code (tests); the
 * production one is the sandbox with no network.
 */
import type { Bar } from "@quasar/providers/sdk"
import { Context, type Effect, Schema, type Scope } from "effect"
import type { AccountView } from "../engine/LiveOrderBook"
import type { LiveDecision } from "../engine/LiveRun"
import type { StrategyCode } from "../strategies/StrategyCatalog"

/** The strategy cannot run (bad params, no code) or threw; the message says which and where. */
export class StrategyFailed extends Schema.TaggedError<StrategyFailed>()("StrategyFailed", {
  message: Schema.String
}) {}

export interface LiveStrategy {
  readonly warm: (bars: ReadonlyArray<Bar>) => Effect.Effect<void, StrategyFailed>
  readonly decide: (
    bars: ReadonlyArray<Bar>,
    account: AccountView
  ) => Effect.Effect<LiveDecision, StrategyFailed>
}

export class StrategySession extends Context.Tag("@quasar/trader/StrategySession")<
  StrategySession,
  {
    /** The session lives until the scope closes. */
    readonly open: (
      code: StrategyCode,
      params: Readonly<Record<string, unknown>>
    ) => Effect.Effect<LiveStrategy, StrategyFailed, Scope.Scope>
  }
>() {}
