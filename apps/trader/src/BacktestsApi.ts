/** The backtests group's handlers: each one call of the run manager. */
import { HttpApiBuilder } from "@effect/platform"
import { TraderApi } from "@quasar/domain"
import { Effect } from "effect"
import { BacktestRunner } from "./backtest/BacktestRunner"

export const BacktestsApiLive = HttpApiBuilder.group(TraderApi, "backtests", (handlers) =>
  Effect.map(BacktestRunner, (runner) =>
    handlers
      .handle("submit", ({ payload }) => runner.submit(payload))
      .handle("list", ({ urlParams }) => runner.list(urlParams))
      .handle("get", ({ path }) => runner.get(path.id))
      .handle("cancel", ({ path }) => runner.cancel(path.id))
      .handle("remove", ({ path }) => runner.remove(path.id))
  )
)
