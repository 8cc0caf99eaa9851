import { HttpApiBuilder } from "@effect/platform"
import { RegistryApi } from "@quasar/domain"
import { Effect, Layer } from "effect"
import { suggest } from "./MappingSuggestions"
import * as MappingsCsv from "./MappingsCsv"
import * as MappingsImport from "./MappingsImport"
import { MappingsRepo } from "./MappingsRepo"

export const MappingsApiLive = HttpApiBuilder.group(RegistryApi, "mappings", (handlers) =>
  Effect.map(MappingsRepo, (repo) =>
    handlers
      .handle("list", ({ urlParams }) => repo.list(urlParams))
      .handle("upsert", ({ payload }) => repo.upsert(payload))
      .handle("remove", ({ path }) => repo.remove(path.source, path.symbol))
      .handle("suggestions", () =>
        Effect.map(repo.suggestionInputs, ({ assets, mappings }) => suggest(assets, mappings))
      )
      .handle("bulk", ({ payload }) => repo.bulk(payload.mappings))
      .handle("exportCsv", () => Effect.map(repo.all, MappingsCsv.format))
      .handle("importCsv", ({ payload }) => Effect.flatMap(MappingsImport.read(payload), repo.bulk))
  )
).pipe(Layer.provide(MappingsRepo.layer))
