/**
 * `ServiceAuth` (internal routes): the service token and nothing else — not the admin token.
 * Every refusal is the same 401, so a caller learns nothing about why; wrong ones are throttled.
 */
import { HttpServerRequest } from "@effect/platform"
import { ServiceAuth, Unauthorized } from "@quasar/domain"
import { Effect, Layer, Option, Redacted } from "effect"
import { AuthThrottle } from "./AuthThrottle"
import * as Bearer from "./Bearer"
import { clientAddress } from "./ClientAddress"
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
    return ServiceAuth.of({
      serviceToken: () =>
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const client = clientAddress(request)
          yield* AuthThrottle.check(throttle, client)
          const credential = Bearer.presented(request)
          if (credential._tag === "Missing") return yield* refused
          if (
            credential._tag === "Token" &&
            Option.isSome(config.serviceToken) &&
            Bearer.sameSecret(credential.token, Redacted.value(config.serviceToken.value))
          )
            return
          yield* throttle.failed(client)
          return yield* refused
        })
    })
  })
)
