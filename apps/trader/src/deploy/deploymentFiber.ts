/**
 * The fiber of one running deployment, kept thin: it rebuilds the state from the database, opens
 * the strategy's session, warms it with DataHub's stored bars, then takes live closed bars and
 * commands (the kill switch) one at a time: step the reducer, ask the strategy when the reducer
 * says so, step again with its decision, and persist the step's events in one transaction. It
 * ends when the deployment does (flat after a kill or a breach, or failed).
 *
 * After a restart nothing is placed twice: orders are keyed by client order ids derived from the
 * deployment, the bar time and the order's place in it, and a bar not newer than the last one of
 * its symbol is no new input (bars missed while Trader was down fill and mark the account, but
 * the strategy only warms up on them: it never trades on a bar that is long gone).
 *
 * On a broker account the fiber first opens the broker (waiting while it is unavailable) and
 * reconciles what was recorded with it (BrokerVenue), takes the broker's order changes and fills
 * as inputs too, and carries out each step's intents (send, cancel) once the step is persisted,
 * so an order is always recorded as `sending` before the broker is called. When the broker's
 * updates restart it looks up what changed meanwhile, and once they are caught up it compares
 * the broker's balances with what the deployment expects (BrokerVenue).
 */

import type { SqlError } from "@effect/sql"
import { type ProviderName, ServiceUnavailable, Timeframe } from "@quasar/domain"
import type { Bar } from "@quasar/providers/sdk"
import { Clock, Deferred, Effect, Either, Queue, Stream, SubscriptionRef } from "effect"
import { BarsFeed } from "../bars/BarsFeed"
import { StrategyCatalog } from "../strategies/StrategyCatalog"
import { accountView } from "./accountView"
import { addBar, emptyBatcher } from "./BarBatcher"
import { type BrokerVenue, openBrokerVenue, type VenueInput } from "./BrokerVenue"
import * as Deployment from "./DeploymentState"
import { type DeploymentRow, DeploymentsRepo, toFill } from "./DeploymentsRepo"
import { LiveBars } from "./LiveBars"
import { restoreDeployment } from "./restoreDeployment"
import { type LiveStrategy, StrategySession } from "./StrategySession"
import { reconnect } from "./WebSocketLiveBars"

/** The kill switch, from the API; `done` once it is persisted. */
export type Command = {
  readonly type: "kill"
  readonly message: string
  readonly done: Deferred.Deferred<void>
}

/** What the fiber takes, one at a time and in arrival order. */
export type Input = Command | { readonly type: "bar"; readonly bar: Bar } | VenueInput

/** What the runner publishes after every step: the last bar handled and the mode, per deployment. */
export type Progress = ReadonlyMap<
  number,
  { readonly lastBarTs: number | undefined; readonly mode: Deployment.Mode }
>

/** The state as persisted; `mode` is what the deployment does from here. */
export const loadState = (row: DeploymentRow, mode: Deployment.Mode) =>
  Effect.gen(function* () {
    const repo = yield* DeploymentsRepo
    const [orders, fills, marks] = yield* Effect.all([
      repo.orders(row.id),
      repo.fills(row.id),
      repo.marks(row.id)
    ])
    const account = row.account
    return restoreDeployment({
      id: row.id,
      venue: account.type,
      limits: row.risk,
      universe: row.universe.map((u) => u.key),
      // A broker charges its own fees: a notional converts to a quantity at the reference price.
      settings:
        account.type === "paper"
          ? { quote: account.quote, feeBps: account.feeBps, slippageBps: account.slippageBps }
          : { quote: account.quote, feeBps: 0, slippageBps: 0 },
      initialCash: row.account.initialCash,
      mode,
      flattenAs: row.flatten_as ?? "killed",
      flattenMessage: row.message ?? "",
      lastBarTs: row.last_bar_ts ?? undefined,
      dayStart: row.day_start ?? undefined,
      dayStartEquity: row.day_start_equity ?? undefined,
      orders: orders.map(({ seq, ...order }) => ({ seq, order })),
      fills: fills.map(toFill),
      marks
    })
  })

const WARMUP_BARS = 200

/** Stored bars before now, in time order across the universe, for warm-up and catching up. */
const history = (row: DeploymentRow, since: number | undefined, bars: number) =>
  Effect.gen(function* () {
    const feed = yield* BarsFeed
    const now = yield* Clock.currentTimeMillis
    const timeframe = row.timeframe as Timeframe.Timeframe
    const barMs = Timeframe.durationMs(timeframe)
    const from = Math.min(since ?? now, now) - bars * barMs
    const all: Array<Bar> = []
    for (const member of row.universe) {
      const blocks = yield* feed
        .load({ provider: row.provider as ProviderName, symbol: member.symbol, timeframe, from, to: now })
        .pipe(
          Effect.catchAll((e) =>
            Effect.as(
              Effect.logWarning("no stored bars to warm a deployment up with").pipe(
                Effect.annotateLogs({ deployment: row.id, symbol: member.symbol, error: e.message })
              ),
              []
            )
          )
        )
      for (const columns of blocks)
        for (let i = 0; i < columns.ts.length; i++)
          // Only bars that have closed by now: the newest stored one may still be forming.
          if (columns.ts[i]! + barMs <= now)
            all.push({
              symbol: member.key,
              ts: columns.ts[i]!,
              open: columns.open[i]!,
              high: columns.high[i]!,
              low: columns.low[i]!,
              close: columns.close[i]!,
              volume: columns.volume[i]!
            })
    }
    return all.sort((a, b) => a.ts - b.ts)
  })

export const runDeployment = (
  id: number,
  inputs: Queue.Queue<Input>,
  progress: SubscriptionRef.SubscriptionRef<Progress>
) =>
  Effect.gen(function* () {
    const repo = yield* DeploymentsRepo
    const row = yield* repo.row(id)
    if (row === undefined) return
    let state = yield* loadState(row, row.status === "flattening" ? "flattening" : "running")
    const publish = SubscriptionRef.update(progress, (m) =>
      new Map(m).set(id, { lastBarTs: state.lastBarTs, mode: state.mode })
    )
    const code = yield* Effect.flatMap(StrategyCatalog, (c) => c.code(row.strategy, row.version)).pipe(
      Effect.retry({ schedule: reconnect, while: (e) => e instanceof ServiceUnavailable })
    )
    const session: LiveStrategy = yield* Effect.flatMap(StrategySession, (s) => s.open(code, row.params))
    const symbols = new Map(row.universe.map((u) => [u.symbol, u.key] as const))
    const venue: BrokerVenue | undefined =
      row.account.type === "broker"
        ? yield* openBrokerVenue(row, row.account.broker, (event) => Queue.offer(inputs, event))
        : undefined
    const liveBars = yield* LiveBars
    yield* liveBars
      .closed(
        row.universe.map((u) => ({
          provider: row.provider as ProviderName,
          symbol: u.symbol,
          timeframe: row.timeframe as Timeframe.Timeframe
        }))
      )
      .pipe(
        Stream.runForEach((b) =>
          Queue.offer(inputs, {
            type: "bar",
            bar: { ...b, symbol: symbols.get(b.series.symbol) ?? b.series.symbol }
          })
        ),
        Effect.forkScoped
      )

    /**
     * Persists a step, then (`persisted`: the kill switch learns it was taken) carries out its
     * intents at the broker and steps with the answers.
     */
    const commit = (
      events: ReadonlyArray<Deployment.DeploymentEvent>,
      next: Deployment.DeploymentState,
      persisted: Effect.Effect<void> = Effect.void
    ): Effect.Effect<void, SqlError.SqlError> =>
      Effect.gen(function* () {
        yield* repo.persist(id, events)
        state = next
        yield* publish
        yield* persisted
        if (venue === undefined) return
        for (const event of events)
          if (event.type === "intent") yield* apply(yield* venue.carryOut(event.intent))
      })

    const apply = (more: ReadonlyArray<Deployment.DeploymentInput>) =>
      Effect.forEach(
        more,
        (input) =>
          Effect.suspend(() => {
            const step = Deployment.step(state, input)
            return commit(step.events, step.state)
          }),
        { discard: true }
      )

    /** Handles the closed bars of one open time; `trade`: the strategy decides on them (else it only warms up). */
    const onBars = (bars: ReadonlyArray<Bar>, trade: boolean) =>
      Effect.gen(function* () {
        const events: Array<Deployment.DeploymentEvent> = []
        const fresh: Array<Bar> = []
        let next = state
        let decide = false
        for (const bar of bars) {
          const step = Deployment.step(next, { type: "bar", bar })
          events.push(...step.events)
          next = step.state
          if (step.events.length > 0) fresh.push(bar)
          decide = decide || step.decide
        }
        const ts = fresh[0]?.ts
        if (decide && trade && ts !== undefined) {
          const decided = yield* Effect.either(session.decide(fresh, accountView(next)))
          const second = Either.isLeft(decided)
            ? Deployment.step(next, { type: "fail", ts, message: decided.left.message })
            : Deployment.step(next, { type: "decision", ts, ...decided.right })
          if (Either.isRight(decided))
            for (const log of decided.right.logs)
              yield* Effect.logInfo(log.message).pipe(
                Effect.annotateLogs({ deployment: id, strategyLog: log.ts })
              )
          events.push(...second.events)
          next = second.state
        } else if (fresh.length > 0) yield* session.warm(fresh)
        yield* commit(events, next)
      })

    // Warm-up: stored bars up to the last one handled only feed the strategy; later ones (missed
    // while stopped) also reach the account, but the strategy does not trade on them.
    if (venue !== undefined) {
      const orders = yield* repo.orders(id)
      yield* apply(yield* venue.reconcile(state, orders))
    }

    for (const bar of yield* history(row, state.lastBarTs, WARMUP_BARS)) {
      const seen = state.account.lastBars.get(bar.symbol)
      if (state.lastBarTs === undefined || (seen !== undefined && bar.ts <= seen.ts))
        yield* session.warm([bar])
      else yield* onBars([bar], false)
    }
    yield* publish

    const onCommand = (command: Command) =>
      Effect.gen(function* () {
        const step = Deployment.step(state, { type: "kill", message: command.message })
        // Taken once persisted: the broker may take a while to answer the cancels and sells.
        yield* commit(step.events, step.state, Deferred.succeed(command.done, undefined))
      })

    // Live bars of one open time go to the strategy together (see BarBatcher).
    let batcher = emptyBatcher(
      row.universe.map((u) => u.key),
      state.lastBarTs
    )
    while (state.mode !== "ended") {
      const input = yield* Queue.take(inputs)
      if (input.type === "kill") {
        yield* onCommand(input)
        continue
      }
      if (input.type === "broker") {
        const translated = venue?.translate(input.event, state)
        if (translated !== undefined) yield* apply([translated])
        continue
      }
      if (input.type === "brokerRestarted") {
        if (venue !== undefined) yield* apply(yield* venue.resync(state))
        continue
      }
      if (input.type === "brokerCaughtUp") {
        if (venue !== undefined) yield* apply(yield* venue.balances(state))
        continue
      }
      if (input.type === "brokerLost") {
        yield* apply([{ type: "fail", ts: state.lastBarTs ?? 0, message: input.message }])
        continue
      }
      const added = addBar(batcher, input.bar)
      batcher = added.state
      for (const batch of added.batches) yield* onBars(batch, true)
    }
  }).pipe(
    Effect.catchAll((e) =>
      Effect.flatMap(DeploymentsRepo, (repo) =>
        Effect.zipRight(
          Effect.logError("a deployment failed").pipe(
            Effect.annotateLogs({ deployment: id, error: e.message })
          ),
          repo.setStatus(id, "failed", `${e._tag}: ${e.message}`, null)
        )
      )
    ),
    Effect.annotateLogs({ deployment: id }),
    Effect.withSpan("Deployment.run", { attributes: { deployment: id } })
  )
