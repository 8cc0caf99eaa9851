/** Handlers of the internal `catalog` group: each delegates to the Catalog. */
import { HttpApiBuilder } from "@effect/platform"
import { RegistryApi } from "@quasar/domain"
import { Effect, Layer } from "effect"
import { Catalog } from "./Catalog"

export const CatalogApiLive = HttpApiBuilder.group(RegistryApi, "catalog", (handlers) =>
  Effect.map(Catalog, (catalog) =>
    handlers
      .handle("changes", ({ urlParams }) => catalog.changes(urlParams.after, urlParams.waitMs))
      .handle("current", ({ path }) => catalog.current(path.name))
      .handle("version", ({ path }) => catalog.version(path.name, path.version))
      .handle("settings", ({ path }) => catalog.opened(path.name))
      .handle("providers", () => catalog.providers)
      .handle("assets", ({ path }) => catalog.assets(path.name))
      .handle("mappings", () => catalog.mappings)
  )
).pipe(Layer.provide(Catalog.layer))
