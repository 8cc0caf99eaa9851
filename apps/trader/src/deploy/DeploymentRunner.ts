/**
 * Deployments' lifecycle: one supervised fiber per running (or flattening) deployment, started
 * again for each such deployment when Trader starts; create, start, stop and the kill switch; and
 * the views the API reads (status with positions marked to market, orders, fills, audit).
 */
import {
  Conflict,
  type Deployment,
  type DeploymentRequest,
  type DeploymentStatus,
  InvalidRequest,
  NotFound,
  type ProviderName
} from "@quasar/domain"
import { resolveParams } from "@quasar/providers/sdk"
import { orUnavailableOnSql, SchemaState } from "@quasar/server"
import {
  Context,
  DateTime,
  Deferred,
  Duration,
  Effect,
  Fiber,
  FiberMap,
  Layer,
  Option,
  Queue,
  Schedule,
  Stream,
  SubscriptionRef
} from "effect"
import type { BarsFeed } from "../bars/BarsFeed"
import type { BrokerHost } from "../broker/BrokerHost"
import { accountPerformance } from "../portfolio/performance"
import { StrategyCatalog } from "../strategies/StrategyCatalog"
import type { SymbolMappings } from "../strategies/SymbolMappings"
import * as DeploymentState from "./DeploymentState"
import { type DeploymentRow, DeploymentsRepo } from "./DeploymentsRepo"
import { deploymentAccount } from "./deploymentAccount"
import { type Input, loadState, type Progress, runDeployment } from "./deploymentFiber"
import type { LiveBars } from "./LiveBars"
import type { StrategySession } from "./StrategySession"

const orUnavailable = orUnavailableOnSql((e) => `the database could not be reached (${e.message}); retry`)

/** How long the kill switch waits for a running deployment's fiber to take it. */
const KILL_TAKEN_WITHIN = Duration.seconds(10)

const make = Effect.gen(function* () {
  const repo = yield* DeploymentsRepo
  const catalog = yield* StrategyCatalog
  const accountContext = yield* Effect.context<SymbolMappings | BrokerHost>()
  const fibers = yield* FiberMap.make<number>()
  const inputs = new Map<number, Queue.Queue<Input>>()
  const progress = yield* SubscriptionRef.make<Progress>(new Map())
  const context = yield* Effect.context<
    DeploymentsRepo | StrategyCatalog | StrategySession | LiveBars | BarsFeed | BrokerHost
  >()

  const launch = (id: number) =>
    Effect.gen(function* () {
      if (yield* FiberMap.has(fibers, id)) return
      const queue = yield* Queue.unbounded<Input>()
      inputs.set(id, queue)
      // Not ended any more: a fiber of an earlier run may have said so.
      yield* SubscriptionRef.update(progress, (m) =>
        new Map(m).set(id, { lastBarTs: m.get(id)?.lastBarTs, mode: "running" })
      )
      yield* FiberMap.run(
        fibers,
        id,
        Effect.scoped(runDeployment(id, queue, progress)).pipe(
          Effect.ensuring(
            Effect.zipRight(
              Effect.sync(() => inputs.get(id) === queue && inputs.delete(id)),
              // Whoever waits on this deployment's progress learns that its fiber is gone.
              SubscriptionRef.update(progress, (m) =>
                new Map(m).set(id, { lastBarTs: m.get(id)?.lastBarTs, mode: "ended" })
              )
            )
          ),
          Effect.provide(context)
        ),
        { onlyIfMissing: true }
      )
    })

  const row = (id: number) =>
    Effect.flatMap(repo.row(id), (r) =>
      r === undefined
        ? Effect.fail(new NotFound({ message: `no deployment ${id}; list them with GET /deployments` }))
        : Effect.succeed(r)
    )

  const view = (r: DeploymentRow) =>
    Effect.gen(function* () {
      const [fills, marks] = yield* Effect.all([repo.fills(r.id), repo.marks(r.id)])
      const perf = accountPerformance({
        initialCash: r.account.initialCash,
        fills,
        marks: new Map([...marks].map(([symbol, bar]) => [symbol, bar.close] as const)),
        equity: []
      })
      const deployment: Deployment = {
        id: r.id as Deployment["id"],
        strategy: r.strategy,
        version: r.version,
        provider: r.provider as ProviderName,
        params: r.params as Deployment["params"],
        account: r.account,
        risk: r.risk,
        universe: r.universe.map((u) => u.key),
        timeframe: r.timeframe,
        status: r.status,
        message: r.message,
        createdAt: DateTime.unsafeMake(r.created_at),
        lastBarTs: r.last_bar_ts,
        cash: perf.cash,
        equity: perf.equity,
        positions: perf.positions
      }
      return deployment
    })

  const viewOf = (id: number) => Effect.flatMap(row(id), view)

  const transition = (id: number, allowed: ReadonlyArray<DeploymentStatus>, what: string) =>
    Effect.flatMap(row(id), (r) =>
      allowed.includes(r.status)
        ? Effect.succeed(r)
        : Effect.fail(new Conflict({ message: `deployment ${id} is ${r.status}: ${what}` }))
    )

  const create = (request: DeploymentRequest) =>
    Effect.gen(function* () {
      const code = yield* catalog.code(request.strategy, request.version)
      const params = resolveParams(code.manifest.params, request.params)
      if (!params.ok)
        return yield* new InvalidRequest({
          message: `params: ${params.problems.join("; ")}; fix them and create the deployment again`,
          field: "params"
        })
      const { account, universe } = yield* deploymentAccount(request, code.manifest.universe.symbols).pipe(
        Effect.provide(accountContext)
      )
      const id = yield* repo.insert({
        strategy: code.name,
        version: code.version,
        codeSha256: code.sha256,
        provider: request.provider,
        params: params.values,
        account,
        risk: request.risk,
        universe,
        timeframe: code.manifest.universe.timeframe
      })
      return yield* viewOf(id)
    })

  const start = (id: number) =>
    Effect.gen(function* () {
      yield* transition(id, ["created", "stopped"], "only a created or stopped deployment starts")
      yield* repo.setStatus(id, "running", null, null)
      yield* launch(id)
      return yield* viewOf(id)
    })

  const stop = (id: number) =>
    Effect.gen(function* () {
      yield* transition(id, ["running"], "only a running deployment stops")
      yield* FiberMap.remove(fibers, id)
      yield* repo.setStatus(id, "stopped", "stopped by the user", null)
      return yield* viewOf(id)
    })

  const kill = (id: number) =>
    Effect.gen(function* () {
      yield* transition(
        id,
        ["created", "running", "stopped", "flattening", "failed"],
        "it has already ended flat"
      )
      const message = "kill switch: stop trading and flatten"
      const queue = inputs.get(id)
      const fiber = yield* Effect.option(FiberMap.get(fibers, id))
      // The running fiber takes the kill in turn with its bars; if it ends first (it failed, or
      // it has just gone flat), the kill is applied here instead, which changes nothing twice.
      const handled =
        queue !== undefined && Option.isSome(fiber)
          ? yield* Effect.gen(function* () {
              const done = yield* Deferred.make<void>()
              yield* Queue.offer(queue, { type: "kill", message, done })
              const taken = yield* Effect.raceFirst(
                Effect.as(Deferred.await(done), true),
                Effect.as(Fiber.await(fiber.value), false)
              ).pipe(Effect.timeoutOption(KILL_TAKEN_WITHIN))
              // A fiber that cannot take it in time (stuck starting, the Registry down) is replaced.
              if (Option.isNone(taken)) yield* FiberMap.remove(fibers, id)
              return Option.getOrElse(taken, () => false)
            })
          : false
      if (!handled) {
        const state = yield* loadState(yield* row(id), "running")
        const step = DeploymentState.step(state, { type: "kill", message })
        yield* repo.persist(id, step.events)
        if (step.state.mode === "flattening") yield* launch(id)
      }
      return yield* viewOf(id)
    })

  // Deployments that were running when Trader stopped go on, once the schema is ready.
  const schema = yield* SchemaState.SchemaState
  const resumed = yield* Deferred.make<void>()
  yield* schema.ready.pipe(
    Effect.zipRight(Effect.flatMap(repo.active, (ids) => Effect.forEach(ids, launch, { discard: true }))),
    Effect.tapError((e) => Effect.logWarning("could not resume deployments yet; retrying", { error: e })),
    Effect.retry(Schedule.spaced("2 seconds")),
    Effect.zipRight(Deferred.succeed(resumed, undefined)),
    Effect.forkScoped
  )

  return {
    create: (request: DeploymentRequest) => create(request).pipe(orUnavailable),
    start: (id: number) => start(id).pipe(orUnavailable),
    stop: (id: number) => stop(id).pipe(orUnavailable),
    kill: (id: number) => kill(id).pipe(orUnavailable),
    get: (id: number) => viewOf(id).pipe(orUnavailable),
    list: (filter: {
      readonly status?: DeploymentStatus | undefined
      readonly strategy?: string | undefined
    }) => Effect.flatMap(repo.list(filter), (rows) => Effect.forEach(rows, view)).pipe(orUnavailable),
    orders: (id: number, limit: number | undefined) =>
      Effect.zipRight(row(id), repo.orders(id, limit ?? 1_000)).pipe(
        Effect.map((rows) => rows.map(({ seq: _seq, ...order }) => order)),
        orUnavailable
      ),
    fills: (id: number, limit: number | undefined) =>
      Effect.zipRight(row(id), repo.fills(id, limit ?? 1_000)).pipe(
        Effect.map((rows) => rows.map(({ orderId: _orderId, ...fill }) => fill)),
        orUnavailable
      ),
    audit: (id: number, limit: number | undefined) =>
      Effect.zipRight(row(id), repo.audit(id, limit ?? 1_000)).pipe(orUnavailable),
    resumed: Deferred.await(resumed),
    /** Waits until the deployment has handled a bar at or after `ts`, or its fiber has ended (tests). */
    reached: (id: number, ts: number) =>
      progress.changes.pipe(
        Stream.takeUntil((m) => {
          const p = m.get(id)
          return p !== undefined && ((p.lastBarTs ?? -1) >= ts || p.mode === "ended")
        }),
        Stream.runDrain
      )
  }
})

export class DeploymentRunner extends Context.Tag("@quasar/trader/DeploymentRunner")<
  DeploymentRunner,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.scoped(DeploymentRunner, make)
}
