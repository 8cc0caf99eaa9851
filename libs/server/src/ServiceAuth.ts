/**
 * `ServiceAuth` (internal routes): the service token and nothing else — not the admin token.
 * Every refusal is the same 401, so a caller learns nothing about why.
 */
import { ServiceAuth, Unauthorized } from "@quasar/domain"
import { Effect, Layer } from "effect"
import { AuthThrottle } from "./AuthThrottle"
import * as Bearer from "./Bearer"
import { ServiceConfig } from "./ServiceConfig"

const refused = new Unauthorized({
  message:
    "internal route: it needs Authorization: Bearer <QUASAR_SERVICE_TOKEN>, the credential only Quasar's services hold"
})

export const ServiceAuthLive = Layer.effect(
  ServiceAuth,
  Effect.gen(function* () {
    const config = yield* ServiceConfig
    const throttle = yield* AuthThrottle
    const check = Effect.flatMap(Bearer.verify(throttle, config.serviceToken), (verdict) =>
      verdict === "valid" ? Effect.void : Effect.fail(refused)
    )
    return ServiceAuth.of({ serviceToken: () => check })
  })
)
