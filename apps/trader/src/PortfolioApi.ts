/** The portfolio group's handlers. */
import { HttpApiBuilder } from "@effect/platform"
import { TraderApi } from "@quasar/domain"
import { Effect } from "effect"
import { PortfolioView } from "./portfolio/PortfolioView"

export const PortfolioApiLive = HttpApiBuilder.group(TraderApi, "portfolio", (handlers) =>
  Effect.map(PortfolioView, (view) =>
    handlers.handle("all", () => view.all).handle("account", ({ path }) => view.account(path.id))
  )
)
