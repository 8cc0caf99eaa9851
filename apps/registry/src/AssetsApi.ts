import { HttpApiBuilder } from "@effect/platform"
import { RegistryApi } from "@quasar/domain"
import { Effect } from "effect"

// Placeholder until the assets implementation lands.
const todo = () => Effect.dieMessage("assets API not implemented yet")

export const AssetsApiLive = HttpApiBuilder.group(RegistryApi, "assets", (handlers) =>
  handlers.handle("search", todo).handle("refresh", todo)
)
