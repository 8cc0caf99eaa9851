import { HttpApiBuilder } from "@effect/platform"
import { RegistryApi } from "@quasar/domain"
import { Effect } from "effect"

// Placeholder until the mappings implementation lands.
const todo = () => Effect.dieMessage("mappings API not implemented yet")

export const MappingsApiLive = HttpApiBuilder.group(RegistryApi, "mappings", (handlers) =>
  handlers
    .handle("list", todo)
    .handle("upsert", todo)
    .handle("remove", todo)
    .handle("suggestions", todo)
    .handle("bulk", todo)
    .handle("exportCsv", todo)
    .handle("importCsv", todo)
)
