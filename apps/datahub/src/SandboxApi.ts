import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { Effect } from "effect"

const todo = () => Effect.dieMessage("sandbox API not implemented yet")

export const SandboxApiLive = HttpApiBuilder.group(DataHubApi, "sandbox", (handlers) =>
  handlers.handle("validate", todo).handle("listAssets", todo)
)
