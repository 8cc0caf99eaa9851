import { HttpApiBuilder } from "@effect/platform"
import { RegistryApi } from "@quasar/domain"
import { Effect } from "effect"

const todo = () => Effect.dieMessage("code API not implemented yet")

export const CodeApiLive = HttpApiBuilder.group(RegistryApi, "code", (handlers) =>
  handlers
    .handle("list", todo)
    .handle("versions", todo)
    .handle("upload", todo)
    .handle("version", todo)
    .handle("source", todo)
    .handle("activate", todo)
    .handle("deleteVersion", todo)
    .handle("disable", todo)
    .handle("rollback", todo)
    .handle("settings", todo)
    .handle("updateSettings", todo)
)
