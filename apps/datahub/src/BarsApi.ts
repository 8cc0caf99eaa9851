import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { Effect } from "effect"

// Placeholder until the bars API lands.
const todo = () => Effect.dieMessage("bars API not implemented yet")

export const BarsApiLive = HttpApiBuilder.group(DataHubApi, "bars", (handlers) =>
  handlers.handle("query", todo).handle("latest", todo)
)
