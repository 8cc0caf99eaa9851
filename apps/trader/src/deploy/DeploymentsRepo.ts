/**
 * SQL for deployments and what they did (migration 0003). `persist` writes one step's events in
 * one transaction; every write is keyed (see the migration), so writing a step again changes
 * nothing. Every order and risk decision is logged as it is recorded.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import type {
  AuditEntry,
  Deployment,
  DeploymentFill,
  DeploymentOrder,
  DeploymentRequest,
  DeploymentStatus
} from "@quasar/domain"
import type { Fill } from "@quasar/providers/sdk"
import { Context, Effect, Layer } from "effect"
import type { PaperBar } from "../paper/PaperAccount"
import type { DeploymentEvent, FlattenAs } from "./DeploymentState"

export interface UniverseMember {
  /** The strategy's universe key, which is the account's symbol. */
  readonly key: string
  /** The provider's own symbol, for its live feed and stored bars. */
  readonly symbol: string
  /** A broker account's own symbol for it (the Registry's mapping for the broker). */
  readonly brokerSymbol?: string
}

/** The account as stored: the request's, with a broker account's starting cash. */
export type StoredAccount = Deployment["account"]

export interface DeploymentRow {
  readonly id: number
  readonly status: DeploymentStatus
  readonly strategy: string
  readonly version: number
  readonly code_sha256: string
  readonly provider: string
  readonly params: Record<string, unknown>
  readonly account: StoredAccount
  readonly risk: DeploymentRequest["risk"]
  readonly universe: ReadonlyArray<UniverseMember>
  readonly timeframe: string
  readonly message: string | null
  readonly flatten_as: FlattenAs | null
  readonly created_at: Date
  readonly last_bar_ts: number | null
  readonly day_start: number | null
  readonly day_start_equity: number | null
}

export interface NewDeployment {
  readonly strategy: string
  readonly version: number
  readonly codeSha256: string
  readonly provider: string
  readonly params: Readonly<Record<string, unknown>>
  readonly account: StoredAccount
  readonly risk: DeploymentRequest["risk"]
  readonly universe: ReadonlyArray<UniverseMember>
  readonly timeframe: string
}

export interface OrderRow extends DeploymentOrder {
  readonly seq: number
  /** When the broker was called for it (epoch ms); null while it has not been. */
  readonly sentAt: number | null
}

const orderFields = `seq, client_order_id AS "clientOrderId", order_id AS "orderId", symbol, side, type, quantity,
  limit_price AS "limitPrice", stop_price AS "stopPrice", status, placed_at AS "placedAt", reason,
  sent_at AS "sentAt"`
const fillFields = `fill_id AS "fillId", client_order_id AS "clientOrderId", order_id AS "orderId", symbol, side,
  quantity, price, fee, ts`

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const writeEvent = (id: number, e: DeploymentEvent): Effect.Effect<void, SqlError.SqlError> => {
    switch (e.type) {
      case "order": {
        const o = e.order
        return sql`
          INSERT INTO trader.deployment_orders (deployment_id, client_order_id, seq, order_id, symbol, side, type,
            quantity, limit_price, stop_price, status, placed_at, reason)
          VALUES (${id}, ${o.clientOrderId}, ${e.seq}, ${o.orderId}, ${o.symbol}, ${o.side}, ${o.type}, ${o.quantity},
            ${o.limitPrice}, ${o.stopPrice}, ${o.status}, ${o.placedAt}, ${o.reason})
          ON CONFLICT (client_order_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason,
            order_id = COALESCE(EXCLUDED.order_id, trader.deployment_orders.order_id)
          -- A broker's report may arrive after a later one: an order that has ended stays as it ended.
          WHERE trader.deployment_orders.status IN ('sending', 'open')`.pipe(Effect.asVoid)
      }
      case "fill": {
        const f = e.fill
        return sql`
          INSERT INTO trader.deployment_fills (deployment_id, fill_id, client_order_id, order_id, symbol, side,
            quantity, price, fee, ts)
          VALUES (${id}, ${f.id}, ${f.clientOrderId ?? f.orderId}, ${f.orderId}, ${f.symbol}, ${f.side},
            ${f.quantity}, ${f.price}, ${f.fee}, ${f.ts})
          ON CONFLICT DO NOTHING`.pipe(Effect.asVoid)
      }
      case "audit": {
        const a = e.entry
        return sql`
          INSERT INTO trader.deployment_audit (deployment_id, key, ts, kind, decision, client_order_id, message)
          VALUES (${id}, ${e.key}, ${a.ts}, ${a.kind}, ${a.decision}, ${a.clientOrderId}, ${a.message})
          ON CONFLICT DO NOTHING`.pipe(
          Effect.zipRight(
            Effect.logInfo(`deployment ${a.kind}: ${a.decision}`).pipe(
              Effect.annotateLogs({
                deployment: id,
                barTs: a.ts,
                clientOrderId: a.clientOrderId ?? undefined,
                detail: a.message
              })
            )
          )
        )
      }
      case "equity":
        return sql`
          INSERT INTO trader.deployment_equity (deployment_id, ts, cash, equity)
          VALUES (${id}, ${e.ts}, ${e.cash}, ${e.equity})
          ON CONFLICT (deployment_id, ts) DO UPDATE SET cash = EXCLUDED.cash, equity = EXCLUDED.equity`.pipe(
          Effect.asVoid
        )
      case "mark":
        return sql`
          INSERT INTO trader.deployment_marks (deployment_id, symbol, ts, open, high, low, close)
          VALUES (${id}, ${e.symbol}, ${e.bar.ts}, ${e.bar.open}, ${e.bar.high}, ${e.bar.low}, ${e.bar.close})
          ON CONFLICT (deployment_id, symbol) DO UPDATE SET ts = EXCLUDED.ts, open = EXCLUDED.open,
            high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close
          WHERE trader.deployment_marks.ts < EXCLUDED.ts`.pipe(Effect.asVoid)
      case "status":
        return setStatus(id, e.status, e.message, e.flattenAs)
      case "intent":
        // Carried out by the fiber; the order it concerns is recorded by its own event.
        return Effect.void
      case "progress":
        return sql`
          UPDATE trader.deployments SET last_bar_ts = GREATEST(last_bar_ts, ${e.lastBarTs}),
            day_start = ${e.dayStart}, day_start_equity = ${e.dayStartEquity}, updated_at = now()
          WHERE id = ${id}`.pipe(Effect.asVoid)
    }
  }

  const setStatus = (
    id: number,
    status: DeploymentStatus,
    message: string | null,
    flattenAs: FlattenAs | null
  ) =>
    sql`
      UPDATE trader.deployments SET status = ${status}, message = ${message}, flatten_as = ${flattenAs},
        updated_at = now()
      WHERE id = ${id}`.pipe(Effect.asVoid)

  return {
    insert: (d: NewDeployment) =>
      sql<{ id: number }>`
        INSERT INTO trader.deployments (status, strategy, version, code_sha256, provider, params, account, risk,
          universe, timeframe, broker)
        VALUES ('created', ${d.strategy}, ${d.version}, ${d.codeSha256}, ${d.provider}, ${JSON.stringify(d.params)},
          ${JSON.stringify(d.account)}, ${JSON.stringify(d.risk)}, ${JSON.stringify(d.universe)}, ${d.timeframe},
          ${d.account.type === "broker" ? d.account.broker : null})
        RETURNING id`.pipe(Effect.map((rows) => rows[0]!.id)),
    row: (id: number) =>
      sql<DeploymentRow>`SELECT * FROM trader.deployments WHERE id = ${id}`.pipe(
        Effect.map((rows) => rows[0])
      ),
    list: (filter: {
      readonly status?: DeploymentStatus | undefined
      readonly strategy?: string | undefined
    }) =>
      sql<DeploymentRow>`
        SELECT * FROM trader.deployments
        WHERE ${sql.and([
          ...(filter.status === undefined ? [] : [sql`status = ${filter.status}`]),
          ...(filter.strategy === undefined ? [] : [sql`strategy = ${filter.strategy}`])
        ])}
        ORDER BY id DESC`,
    /** Deployments whose fiber should run. */
    active: sql<{ id: number }>`
      SELECT id FROM trader.deployments WHERE status IN ('running', 'flattening') ORDER BY id`.pipe(
      Effect.map((rows) => rows.map((r) => r.id))
    ),
    setStatus,
    /** Notes that the broker is being called for an order recorded as sending (see migration 0005). */
    markSent: (clientOrderId: string, brokerClientOrderId: string, at: number) =>
      sql`
        UPDATE trader.deployment_orders SET sent_at = COALESCE(sent_at, ${at}),
          broker_client_order_id = ${brokerClientOrderId}
        WHERE client_order_id = ${clientOrderId}`.pipe(Effect.asVoid),
    persist: (id: number, events: ReadonlyArray<DeploymentEvent>) =>
      events.length === 0
        ? Effect.void
        : Effect.forEach(events, (e) => writeEvent(id, e), { discard: true }).pipe(sql.withTransaction),
    orders: (id: number, limit = 100_000) =>
      sql<OrderRow>`
        SELECT ${sql.literal(orderFields)} FROM trader.deployment_orders
        WHERE deployment_id = ${id} ORDER BY seq DESC LIMIT ${limit}`.pipe(
        Effect.map((rows) => [...rows].reverse())
      ),
    fills: (id: number, limit = 1_000_000) =>
      sql<DeploymentFill & { orderId: string }>`
        SELECT ${sql.literal(fillFields)} FROM trader.deployment_fills
        WHERE deployment_id = ${id} ORDER BY ts DESC, fill_id DESC LIMIT ${limit}`.pipe(
        Effect.map((rows) => [...rows].reverse())
      ),
    audit: (id: number, limit = 1_000) =>
      sql<AuditEntry>`
        SELECT ts, kind, decision, client_order_id AS "clientOrderId", message FROM trader.deployment_audit
        WHERE deployment_id = ${id} ORDER BY id DESC LIMIT ${limit}`,
    equity: (id: number) =>
      sql<{ ts: number; cash: number; equity: number }>`
        SELECT ts, cash, equity FROM trader.deployment_equity WHERE deployment_id = ${id} ORDER BY ts`,
    marks: (id: number) =>
      sql<PaperBar & { symbol: string }>`
        SELECT symbol, ts, open, high, low, close FROM trader.deployment_marks WHERE deployment_id = ${id}`.pipe(
        Effect.map((rows) => new Map(rows.map(({ symbol, ...bar }) => [symbol, bar] as const)))
      )
  }
})

export class DeploymentsRepo extends Context.Tag("@quasar/trader/DeploymentsRepo")<
  DeploymentsRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(DeploymentsRepo, make)
}

/** A persisted fill as the account's fill event had it. */
export const toFill = (f: DeploymentFill & { readonly orderId: string }): Fill => ({
  id: f.fillId,
  orderId: f.orderId,
  clientOrderId: f.clientOrderId,
  symbol: f.symbol,
  side: f.side,
  quantity: f.quantity,
  price: f.price,
  fee: f.fee,
  ts: f.ts
})
