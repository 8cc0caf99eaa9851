/** Portfolio performance read from the deployments' persisted fills, marks and equity points. */

import type { SqlError } from "@effect/sql"
import {
  type AccountPortfolio,
  type DeploymentId,
  NotFound,
  type Portfolio,
  ServiceUnavailable
} from "@quasar/domain"
import { Context, Effect, Layer } from "effect"
import { type DeploymentRow, DeploymentsRepo } from "../deploy/DeploymentsRepo"
import { accountPerformance, totalPerformance } from "./performance"

const unavailable = (e: { readonly message: string }) =>
  new ServiceUnavailable({ message: `the database could not be reached (${e.message}); retry` })

const make = Effect.gen(function* () {
  const repo = yield* DeploymentsRepo

  const accountOf = (r: DeploymentRow) =>
    Effect.gen(function* () {
      const [fills, marks, equity] = yield* Effect.all([
        repo.fills(r.id),
        repo.marks(r.id),
        repo.equity(r.id)
      ])
      const publicFills = fills.map(({ orderId: _orderId, ...fill }) => fill)
      const account: AccountPortfolio = {
        deploymentId: r.id as DeploymentId,
        strategy: r.strategy,
        status: r.status,
        quote: r.account.quote,
        ...accountPerformance({
          initialCash: r.account.initialCash,
          fills: publicFills,
          marks: new Map([...marks].map(([symbol, bar]) => [symbol, bar.close] as const)),
          equity
        }),
        fills: publicFills
      }
      return account
    })

  return {
    all: Effect.gen(function* () {
      const accounts = yield* Effect.forEach(yield* repo.list({}), accountOf)
      const portfolio: Portfolio = { accounts, total: totalPerformance(accounts) }
      return portfolio
    }).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(unavailable(e)))),
    account: (id: number) =>
      Effect.flatMap(
        repo.row(id),
        (r): Effect.Effect<AccountPortfolio, NotFound | SqlError.SqlError> =>
          r === undefined
            ? Effect.fail(new NotFound({ message: `no deployment ${id}; list them with GET /deployments` }))
            : accountOf(r)
      ).pipe(Effect.catchTag("SqlError", (e) => Effect.fail(unavailable(e))))
  }
})

export class PortfolioView extends Context.Tag("@quasar/trader/PortfolioView")<
  PortfolioView,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(PortfolioView, make)
}
