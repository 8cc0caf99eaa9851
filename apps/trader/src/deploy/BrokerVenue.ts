/**
 * A deployment's broker account as the fiber uses it: it carries out the reducer's intents
 * (send, cancel) through the `BrokerHandle`, reconciles what was recorded with the broker when
 * the deployment starts, and turns the broker's reports into the reducer's inputs. The reducer
 * speaks the deployment's language (universe keys, client order ids `<deployment>-<bar>-<n>`);
 * the broker its own (its symbols, and a UUID derived from the client order id, since brokers
 * limit the length of theirs: Kraken takes 18 characters of free text or a UUID).
 *
 * Never guess: an order whose call failed without an answer (`stateUnknown`), or that a crash
 * left `sending` after its call, is looked up by client order id until the broker has it or the
 * time it guarantees one could still appear has passed (then it is `unplaced`); a `sending` order
 * whose call never started is sent now with the same id.
 *
 * When the broker's order updates restart (the connection was lost), the orders recorded open
 * that the broker no longer has open are looked up and their final state recorded; the fills
 * missed meanwhile come from the restarted updates. Once the updates are caught up (their first
 * heartbeat after a start or restart) the broker's balances are compared with what the deployment
 * expects: less at the broker, at two caught-up points in a row (a fill may land between a poll and
 * the balances), is audited and logged, never "fixed" by moving money.
 */
import { createHash } from "node:crypto"
import type { SqlError } from "@effect/sql"
import type { BrokerEvent, BrokerOrder, Fill, OrderRequest } from "@quasar/providers/sdk"
import { Clock, Duration, Effect, Option, Stream } from "effect"
import { type BrokerHandle, BrokerHost, type BrokerRejected } from "../broker/BrokerHost"
import type { Intent, Placement } from "./BrokerLedger"
import { brokerRetrySchedule, whileUnavailable } from "./brokerRetry"
import { describeShortfalls, shortfalls } from "./brokerSteps"
import type { DeploymentInput, DeploymentState } from "./DeploymentState"
import { type DeploymentRow, DeploymentsRepo, type OrderRow, type UniverseMember } from "./DeploymentsRepo"

/**
 * How long after an order's call a broker may still make it appear, when it did not say: Kraken's
 * longest AddOrder deadline (60 s) and its broker's 5 s margin for clock differences.
 */
export const ORDER_SETTLED_WITHIN = Duration.seconds(65)

/** The id the broker knows an order by: a UUID derived from the deployment's client order id. */
export const brokerClientOrderId = (clientOrderId: string): string => {
  const hex = createHash("sha256").update(`quasar-deployment-order:${clientOrderId}`).digest("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

export interface BrokerVenue {
  /** Carries out one intent at the broker; what it answered, as the reducer's inputs. */
  readonly carryOut: (intent: Intent) => Effect.Effect<ReadonlyArray<DeploymentInput>, SqlError.SqlError>
  /** Inputs that bring what was recorded in line with the broker, on start or restart. */
  readonly reconcile: (
    state: DeploymentState,
    orders: ReadonlyArray<OrderRow>
  ) => Effect.Effect<ReadonlyArray<DeploymentInput>, SqlError.SqlError>
  /**
   * After the order updates restarted: the final state of each order recorded open that the
   * broker no longer has open, looked up (an order the broker cannot find stays as recorded).
   */
  readonly resync: (state: DeploymentState) => Effect.Effect<ReadonlyArray<DeploymentInput>>
  /**
   * The broker's balances, for the reducer to compare with what it expects (and a warning), once
   * they fall short at two caught-up points in a row; the first time, only asks for the second.
   */
  readonly balances: (state: DeploymentState) => Effect.Effect<ReadonlyArray<DeploymentInput>>
  /**
   * The broker's order changes and fills from `since` on, the first heartbeat after a start, a
   * restart or a recheck of the balances as `caughtUp`; `onRestart` runs before each restart.
   */
  readonly updates: (
    since: number,
    onRestart: Effect.Effect<void>
  ) => Stream.Stream<BrokerEvent | { readonly type: "caughtUp" }, BrokerRejected>
  /** A broker report as the reducer's input; undefined when it is not this deployment's. */
  readonly translate: (event: BrokerEvent, state: DeploymentState) => DeploymentInput | undefined
}

export const makeBrokerVenue = (
  handle: BrokerHandle,
  universe: ReadonlyArray<UniverseMember>
): Effect.Effect<BrokerVenue, never, DeploymentsRepo> =>
  Effect.gen(function* () {
    const repo = yield* DeploymentsRepo
    const toBroker = new Map(universe.map((u) => [u.key, u.brokerSymbol ?? u.key] as const))
    const toKey = new Map(universe.map((u) => [u.brokerSymbol ?? u.key, u.key] as const))
    const ours = new Map<string, string>()
    const wire = (clientOrderId: string) => {
      const id = brokerClientOrderId(clientOrderId)
      ours.set(id, clientOrderId)
      return id
    }

    /** A broker order in the deployment's terms (its client order id known). */
    const inbound = (order: BrokerOrder, clientOrderId: string): BrokerOrder => ({
      ...order,
      clientOrderId,
      symbol: toKey.get(order.symbol) ?? order.symbol
    })

    /**
     * Looks the order up until the broker has it, or no longer can: never guesses. Undefined when
     * the broker refuses the lookup itself (credentials revoked, say): the order stays `sending`.
     */
    const settle = (clientOrderId: string, settledBy: number): Effect.Effect<Placement | undefined> =>
      Effect.gen(function* () {
        const found = yield* whileUnavailable(handle.findOrder({ clientOrderId: wire(clientOrderId) }))
        if (Option.isSome(found))
          return { type: "order", order: inbound(found.value, clientOrderId) } as const
        const now = yield* Clock.currentTimeMillis
        if (now >= settledBy)
          return {
            type: "unplaced",
            message: `the broker has no order ${clientOrderId} after the time it could still appear: nothing was placed`
          } as const
        yield* Effect.logInfo("the broker does not show the order yet; looking again later").pipe(
          Effect.annotateLogs({ clientOrderId, waitMs: settledBy - now })
        )
        yield* Effect.sleep(Duration.millis(settledBy - now))
        return yield* settle(clientOrderId, settledBy)
      }).pipe(
        Effect.catchAll((e) =>
          Effect.as(
            Effect.logError("the broker refused to look an order up; it stays sending").pipe(
              Effect.annotateLogs({ clientOrderId, error: e.message })
            ),
            undefined
          )
        )
      )

    const send = (request: OrderRequest): Effect.Effect<ReadonlyArray<DeploymentInput>, SqlError.SqlError> =>
      Effect.gen(function* () {
        const clientOrderId = request.clientOrderId
        const brokerId = wire(clientOrderId)
        const sentAt = yield* Clock.currentTimeMillis
        yield* repo.markSent(clientOrderId, brokerId, sentAt)
        const placement: Placement | undefined = yield* handle
          .placeOrder({
            ...request,
            clientOrderId: brokerId,
            symbol: toBroker.get(request.symbol) ?? request.symbol
          })
          .pipe(
            // The same client order id again: the broker returns the order if the first call placed it.
            Effect.retry({
              while: (e) => e._tag === "BrokerUnavailable" && e.reason !== "stateUnknown",
              schedule: brokerRetrySchedule
            }),
            Effect.map((order): Placement | undefined => ({
              type: "order",
              order: inbound(order, clientOrderId)
            })),
            Effect.catchTags({
              BrokerRejected: (e) =>
                Effect.succeed<Placement | undefined>({
                  type: "refused",
                  reason: e.reason,
                  message: e.message
                }),
              BrokerUnavailable: (e) =>
                Effect.flatMap(Clock.currentTimeMillis, (now) =>
                  settle(
                    clientOrderId,
                    e.retryAfterMs === undefined
                      ? sentAt + Duration.toMillis(ORDER_SETTLED_WITHIN)
                      : now + e.retryAfterMs
                  )
                )
            })
          )
        return placementInputs(clientOrderId, placement)
      })

    const cancel = (clientOrderId: string): Effect.Effect<ReadonlyArray<DeploymentInput>> =>
      whileUnavailable(handle.cancelOrder({ clientOrderId: wire(clientOrderId) })).pipe(
        Effect.map(
          (order): ReadonlyArray<DeploymentInput> => [
            { type: "brokerOrder", order: inbound(order, clientOrderId) }
          ]
        ),
        Effect.catchAll((e) =>
          Effect.as(
            Effect.logWarning("the broker refused to cancel an order").pipe(
              Effect.annotateLogs({ clientOrderId, reason: e.reason, error: e.message })
            ),
            []
          )
        )
      )

    const reconcile = (state: DeploymentState, orders: ReadonlyArray<OrderRow>) =>
      Effect.gen(function* () {
        // Before anything is sent: afterwards the broker's positions include what this start did.
        yield* comparePositions(state)
        const inputs: Array<DeploymentInput> = []
        for (const row of orders) {
          if (row.status === "sending")
            if (row.sentAt === null) {
              const order = state.account.orders.get(row.clientOrderId)
              if (order !== undefined) inputs.push(...(yield* send(requestOf(order))))
            } else
              inputs.push(
                ...placementInputs(
                  row.clientOrderId,
                  yield* settle(row.clientOrderId, row.sentAt + Duration.toMillis(ORDER_SETTLED_WITHIN))
                )
              )
          else if (row.status === "open") {
            const found = yield* whileUnavailable(
              handle.findOrder({ clientOrderId: wire(row.clientOrderId) })
            ).pipe(Effect.orElseSucceed(() => Option.none<BrokerOrder>()))
            if (Option.isSome(found))
              inputs.push({ type: "brokerOrder", order: inbound(found.value, row.clientOrderId) })
          }
        }
        // A kill taken while no fiber ran recorded its cancels only: send them now.
        if (state.mode === "flattening")
          for (const w of state.account.working)
            if (w.order.clientOrderId !== undefined && !w.order.clientOrderId.includes("-flatten-"))
              inputs.push(...(yield* cancel(w.order.clientOrderId)))
        return inputs
      })

    /** The broker's positions are the whole account's: less than recorded means the record is wrong. */
    const comparePositions = (state: DeploymentState) =>
      whileUnavailable(handle.positions).pipe(
        Effect.flatMap((positions) =>
          Effect.forEach(
            state.account.holdings,
            ([key, holding]) => {
              const held = positions.find((p) => p.symbol === toBroker.get(key))?.quantity ?? 0
              return held + 1e-9 < holding.quantity
                ? Effect.logWarning("the broker holds less than the deployment recorded").pipe(
                    Effect.annotateLogs({ symbol: key, recorded: holding.quantity, atBroker: held })
                  )
                : Effect.void
            },
            { discard: true }
          )
        ),
        Effect.catchAll((e) =>
          Effect.logWarning("could not compare positions with the broker").pipe(
            Effect.annotateLogs({ error: e.message })
          )
        )
      )

    const resync = (state: DeploymentState): Effect.Effect<ReadonlyArray<DeploymentInput>> =>
      Effect.gen(function* () {
        const open = yield* whileUnavailable(handle.openOrders)
        const openIds = new Set(open.map((o) => o.orderId))
        const inputs: Array<DeploymentInput> = []
        // A `sending` order has no broker id yet: its own lookup (settle) records it.
        for (const w of state.account.working) {
          const clientOrderId = w.order.clientOrderId
          if (clientOrderId === undefined || w.order.orderId === "" || openIds.has(w.order.orderId)) continue
          const found = yield* whileUnavailable(handle.findOrder({ clientOrderId: wire(clientOrderId) }))
          if (Option.isSome(found))
            inputs.push({ type: "brokerOrder", order: inbound(found.value, clientOrderId) })
          else
            yield* Effect.logWarning(
              "an order recorded open is neither open nor found at the broker; it stays as recorded"
            ).pipe(Effect.annotateLogs({ clientOrderId, orderId: w.order.orderId }))
        }
        return inputs
      }).pipe(
        Effect.catchAll((e) =>
          Effect.as(
            Effect.logWarning("could not compare open orders with the broker").pipe(
              Effect.annotateLogs({ error: e.message })
            ),
            []
          )
        )
      )

    // A comparison is due at the next heartbeat; a shortfall was seen at the last one.
    let balancesDue = true
    let suspected = false

    const updates = (since: number, onRestart: Effect.Effect<void>) =>
      handle
        .orderUpdates(
          since,
          Effect.suspend(() => {
            balancesDue = true
            return onRestart
          })
        )
        .pipe(
          Stream.map((event) => {
            if (event.type !== "heartbeat" || !balancesDue) return event
            balancesDue = false
            return { type: "caughtUp" } as const
          })
        )

    const balances = (state: DeploymentState): Effect.Effect<ReadonlyArray<DeploymentInput>> =>
      Effect.gen(function* () {
        const held = yield* whileUnavailable(handle.balances)
        const short = shortfalls(state, held)
        if (short.length > 0 && !suspected) {
          suspected = true
          balancesDue = true
          return []
        }
        suspected = false
        if (short.length > 0)
          yield* Effect.logWarning(describeShortfalls(short)).pipe(
            Effect.annotateLogs({
              shortfalls: short.map((s) => `${s.asset}: expected ${s.expected}, at the broker ${s.atBroker}`)
            })
          )
        const ts = yield* Clock.currentTimeMillis
        return [{ type: "brokerBalances", ts, balances: held }] as const
      }).pipe(
        Effect.catchAll((e) =>
          Effect.as(
            Effect.logWarning("could not compare balances with the broker").pipe(
              Effect.annotateLogs({ error: e.message })
            ),
            []
          )
        )
      )

    const clientIdOf = (state: DeploymentState, brokerClientId: string | undefined, orderId: string) => {
      if (brokerClientId !== undefined) {
        if (!ours.has(brokerClientId)) for (const key of state.account.orders.keys()) wire(key)
        const known = ours.get(brokerClientId)
        if (known !== undefined) return known
      }
      for (const [key, order] of state.account.orders) if (order.orderId === orderId) return key
      return undefined
    }

    const translate = (event: BrokerEvent, state: DeploymentState): DeploymentInput | undefined => {
      if (event.type === "heartbeat") return undefined
      if (event.type === "order") {
        const key = clientIdOf(state, event.order.clientOrderId, event.order.orderId)
        return key === undefined ? undefined : { type: "brokerOrder", order: inbound(event.order, key) }
      }
      const key = clientIdOf(state, event.fill.clientOrderId, event.fill.orderId)
      if (key === undefined) return undefined
      const fill: Fill = {
        ...event.fill,
        clientOrderId: key,
        symbol: toKey.get(event.fill.symbol) ?? event.fill.symbol
      }
      return { type: "brokerFill", fill }
    }

    return {
      carryOut: (intent: Intent) =>
        intent.type === "send" ? send(intent.request) : cancel(intent.clientOrderId),
      reconcile,
      resync,
      balances,
      updates,
      translate
    }
  })

const placementInputs = (
  clientOrderId: string,
  placement: Placement | undefined
): ReadonlyArray<DeploymentInput> =>
  placement === undefined ? [] : [{ type: "placed", clientOrderId, placement }]

const requestOf = (o: BrokerOrder): OrderRequest => ({
  clientOrderId: o.clientOrderId ?? o.orderId,
  symbol: o.symbol,
  side: o.side,
  type: o.type,
  quantity: o.quantity,
  ...(o.limitPrice !== undefined && { limitPrice: o.limitPrice }),
  ...(o.stopPrice !== undefined && { stopPrice: o.stopPrice })
})

/**
 * What the broker reports to a running deployment: an event; that its updates restarted (look up
 * what changed meanwhile) or caught up (compare balances); or that it stopped reporting for good.
 */
export type VenueInput =
  | { readonly type: "broker"; readonly event: BrokerEvent }
  | { readonly type: "brokerRestarted" }
  | { readonly type: "brokerCaughtUp" }
  | { readonly type: "brokerLost"; readonly message: string }

/**
 * Opens the deployment's broker (waiting while it is unavailable) and passes its order changes and
 * fills on from the last fill recorded (the broker replays the later ones), for as long as the
 * scope lasts.
 */
export const openBrokerVenue = (
  row: DeploymentRow,
  broker: string,
  report: (input: VenueInput) => Effect.Effect<unknown>
) =>
  Effect.gen(function* () {
    const repo = yield* DeploymentsRepo
    const host = yield* BrokerHost
    const handle = yield* whileUnavailable(host.open(broker))
    const venue = yield* makeBrokerVenue(handle, row.universe)
    const fills = yield* repo.fills(row.id)
    const since = fills.reduce((max, f) => Math.max(max, f.ts), row.created_at.getTime())
    yield* venue.updates(since, Effect.asVoid(report({ type: "brokerRestarted" }))).pipe(
      Stream.runForEach((event) =>
        report(event.type === "caughtUp" ? { type: "brokerCaughtUp" } : { type: "broker", event })
      ),
      Effect.catchAll((e) =>
        report({
          type: "brokerLost",
          message: `broker ${broker} stopped reporting orders (${e.reason}: ${e.message})`
        })
      ),
      Effect.forkScoped
    )
    return venue
  })
