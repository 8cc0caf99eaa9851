/** `StrategyCatalog` over the Registry's code API, through the derived client. */
import { type CodeVersion, InvalidRequest, NotFound, ProviderName, ServiceUnavailable } from "@quasar/domain"
import { Effect, Layer } from "effect"
import { RegistryClient } from "../clients/RegistryClient"
import { StrategyCatalog, type StrategyCode } from "./StrategyCatalog"
import { strategySpec } from "./strategySpec"

const RUNNABLE = new Set(["valid", "active", "disabled"])

export const layer = Layer.effect(
  StrategyCatalog,
  Effect.map(RegistryClient, (client) => ({
    code: (
      name: string,
      version: number | undefined
    ): Effect.Effect<StrategyCode, NotFound | InvalidRequest | ServiceUnavailable> =>
      Effect.gen(function* () {
        const path = { name: ProviderName.make(name) }
        const chosen: CodeVersion =
          version === undefined
            ? yield* Effect.flatMap(client.code.versions({ path }), (versions) => {
                const active = versions.find((v) => v.status === "active")
                return active === undefined
                  ? Effect.fail(
                      new NotFound({
                        message: `strategy ${name} has no active version: activate one in the Registry, or give "version"`
                      })
                    )
                  : Effect.succeed(active)
              })
            : yield* client.code.version({ path: { ...path, version } })
        if (chosen.kind !== "strategy")
          return yield* new InvalidRequest({
            message: `${name} is ${chosen.kind} code, not a strategy; name a strategy uploaded with kind "strategy"`,
            field: "strategy"
          })
        if (!RUNNABLE.has(chosen.status))
          return yield* new InvalidRequest({
            message: `version ${chosen.version} of ${name} is ${chosen.status} (it has not passed validation); run a valid version`,
            field: "version"
          })
        const manifest = chosen.manifest
        if (manifest === null || manifest.kind !== "strategy")
          return yield* new InvalidRequest({
            message: `version ${chosen.version} of ${name} has no strategy manifest; upload it again`,
            field: "version"
          })
        const source = yield* client.code.source({ path: { ...path, version: chosen.version } })
        return {
          name,
          version: chosen.version,
          language: chosen.language,
          sha256: chosen.sha256,
          source,
          manifest: strategySpec(manifest)
        }
      }).pipe(
        Effect.catchIf(
          (e) => !(e instanceof NotFound || e instanceof InvalidRequest),
          (e) => Effect.fail(unavailable(name, `${e._tag}: ${e.message}`))
        ),
        Effect.withSpan("StrategyCatalog.code", { attributes: { strategy: name } })
      )
  }))
)

const unavailable = (name: string, detail: string) =>
  new ServiceUnavailable({
    message: `the Registry could not serve strategy ${name} (${detail}); check that the Registry is running and retry`
  })
