/**
 * Checks of what broker code returns, against the domain's wire Schemas; the SDK's interfaces
 * are what the decoded values are typed as (the two are kept equal by the assignments below).
 */
import { BalanceWire, BrokerEventWire, BrokerOrderWire, PositionWire } from "@quasar/domain"
import type { Balance, BrokerEvent, BrokerOrder, Position } from "@quasar/providers/sdk"
import { Either, ParseResult, Schema } from "effect"

export type Checked<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly problem: string }
export type Check<A> = (value: unknown) => Checked<A>

const checkWith =
  <A, I>(schema: Schema.Schema<A, I>): Check<A> =>
  (value) => {
    const result = Schema.decodeUnknownEither(schema, { onExcessProperty: "ignore" })(value)
    return Either.isRight(result)
      ? { ok: true, value: result.right }
      : { ok: false, problem: ParseResult.TreeFormatter.formatErrorSync(result.left) }
  }

export const mapChecked = <A, B>(checked: Checked<A>, f: (a: A) => B): Checked<B> =>
  checked.ok ? { ok: true, value: f(checked.value) } : checked

export const checkOrder: Check<BrokerOrder> = checkWith(BrokerOrderWire)
export const checkOrders: Check<ReadonlyArray<BrokerOrder>> = checkWith(Schema.Array(BrokerOrderWire))
export const checkPositions: Check<ReadonlyArray<Position>> = checkWith(Schema.Array(PositionWire))
export const checkBalances: Check<ReadonlyArray<Balance>> = checkWith(Schema.Array(BalanceWire))
export const checkEvent: Check<BrokerEvent> = checkWith(BrokerEventWire)
