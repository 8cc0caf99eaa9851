/**
 * The sandbox endpoints the Registry calls: validate an upload in a fresh sandbox, and list the
 * active version's assets through the provider pool. Provider failures become 503s that carry
 * the reason (a crash, a timeout, bad settings) so the Registry can show it as is.
 */
import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi, ServiceUnavailable } from "@quasar/domain"
import { Effect } from "effect"
import { RegistryCatalog } from "./catalog/RegistryCatalog"
import { ProviderPool } from "./sandbox/ProviderPool"
import { Validator } from "./sandbox/Validator"

export const SandboxApiLive = HttpApiBuilder.group(DataHubApi, "sandbox", (handlers) =>
  Effect.gen(function* () {
    const validator = yield* Validator
    const pool = yield* ProviderPool
    const catalog = yield* RegistryCatalog
    return handlers
      .handle("validate", ({ payload }) =>
        validator.validate(payload.name, payload.kind, payload.language, payload.source).pipe(
          // The upload is not at fault when DataHub cannot prepare a sandbox: no report, a 503.
          Effect.catchTag("SandboxSetupError", (e) =>
            Effect.fail(new ServiceUnavailable({ message: `DataHub cannot prepare a sandbox: ${e.message}` }))
          )
        )
      )
      .handle("listAssets", ({ path }) =>
        // The Registry asks right after an activation or a settings change: read them afresh.
        Effect.zipRight(catalog.refresh(path.name), pool.listAssets(path.name)).pipe(
          Effect.map((listing) => ({ assets: listing.assets, rejected: listing.rejected.length })),
          Effect.catchTags({
            ProviderRetryableError: (e) =>
              Effect.fail(
                new ServiceUnavailable({
                  message: `"${path.name}" could not list its assets: ${e.message}. This may pass: retry later`
                })
              ),
            ProviderFatalError: (e) =>
              Effect.fail(
                new ServiceUnavailable({
                  message: `"${path.name}" could not list its assets: ${e.message}. Fix its settings or upload a fixed version`
                })
              )
          })
        )
      )
  })
)
