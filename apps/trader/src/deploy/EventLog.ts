/** The events one step of a deployment gives, collected while it folds account commands. */
import type { AuditKind, DeploymentOrder, DeploymentStatus } from "@quasar/domain"
import type { BrokerEvent, BrokerOrder } from "@quasar/providers/sdk"
import * as Paper from "../paper/PaperAccount"
import * as Ledger from "./BrokerLedger"
import type { DeploymentEvent, DeploymentState, FlattenAs } from "./DeploymentState"

export class EventLog {
  readonly events: Array<DeploymentEvent> = []
  constructor(public state: DeploymentState) {}

  audit(ts: number, kind: AuditKind, decision: string, clientOrderId: string | null, message: string) {
    this.events.push({
      type: "audit",
      key: `${ts}:${kind}:${decision}:${clientOrderId ?? ""}`,
      entry: { ts, kind, decision, clientOrderId, message }
    })
  }

  status(status: DeploymentStatus, message: string | null, flattenAs: FlattenAs | null, ts: number) {
    this.events.push({ type: "status", status, message, flattenAs })
    this.audit(ts, "status", status, null, message ?? status)
  }

  order(seq: number, order: DeploymentOrder) {
    this.events.push({ type: "order", seq, order })
  }

  /**
   * Runs an account command and records its order and fill events. On a broker account an order
   * is recorded as `sending` with the intent to send it, which the fiber carries out once this
   * step is persisted.
   */
  account(command: Paper.PaperCommand): Paper.PaperReply {
    if (this.state.venue === "broker") {
      const step = Ledger.command(this.state.account, command)
      if (command.type === "place")
        for (const intent of step.intents)
          if (intent.type === "send") {
            const seq = this.state.seqByClientId.get(intent.request.clientOrderId) ?? 0
            this.order(seq, sending(step.state.orders.get(intent.request.clientOrderId)!, command.at))
          }
      this.ledger(step)
      return step.reply
    }
    const step = Paper.step(this.state.account, command)
    this.state = { ...this.state, account: step.state }
    for (const event of step.events) this.broker(event)
    return step.reply
  }

  /** Takes a broker ledger's step: its intents to carry out, its order changes and fills to record. */
  ledger(step: Ledger.LedgerStep) {
    this.state = { ...this.state, account: step.state }
    for (const intent of step.intents) this.events.push({ type: "intent", intent })
    for (const order of step.orders) this.broker({ type: "order", order })
    for (const fill of step.fills) {
      this.state = { ...this.state, fillIds: new Set(this.state.fillIds).add(fill.id) }
      this.broker({ type: "fill", fill })
    }
  }

  private broker(event: BrokerEvent) {
    if (event.type === "fill") this.events.push({ type: "fill", fill: event.fill })
    else if (event.type === "order") {
      const o = event.order
      const seq = this.state.seqByClientId.get(o.clientOrderId ?? "") ?? 0
      this.order(seq, fromBroker(o))
    }
  }

  /** Gives a new order its strategy id. */
  assign(clientOrderId: string): number {
    const seq = this.state.nextSeq
    this.state = {
      ...this.state,
      nextSeq: seq + 1,
      seqByClientId: new Map(this.state.seqByClientId).set(clientOrderId, seq)
    }
    return seq
  }
}

const sending = (o: BrokerOrder, at: number): DeploymentOrder => ({
  ...fromBroker(o),
  orderId: null,
  status: "sending",
  placedAt: at
})

export const fromBroker = (o: BrokerOrder): DeploymentOrder => ({
  clientOrderId: o.clientOrderId ?? o.orderId,
  // A broker order not placed yet has no id of its own.
  orderId: o.orderId === "" ? null : o.orderId,
  symbol: o.symbol,
  side: o.side,
  type: o.type,
  quantity: o.quantity,
  limitPrice: o.limitPrice ?? null,
  stopPrice: o.stopPrice ?? null,
  status: o.status === "pending" ? "open" : o.status,
  placedAt: o.createdAt,
  reason: o.reason ?? null
})
