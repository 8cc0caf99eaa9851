/** `AdminAuth` (people's writes): the admin token, its scheme checked, wrong ones throttled. */
import { HttpServerRequest } from "@effect/platform"
import { AdminAuth, Forbidden, Unauthorized } from "@quasar/domain"
import { Effect, Layer, Option, Redacted } from "effect"
import { AuthThrottle } from "./AuthThrottle"
import * as Bearer from "./Bearer"
import { clientAddress } from "./ClientAddress"
import { ServiceConfig } from "./ServiceConfig"

export const AdminAuthLive = Layer.effect(
  AdminAuth,
  Effect.gen(function* () {
    const config = yield* ServiceConfig
    const throttle = yield* AuthThrottle
    return AdminAuth.of({
      adminToken: () =>
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const client = clientAddress(request)
          yield* AuthThrottle.check(throttle, client)
          if (Option.isNone(config.adminToken))
            return yield* new Unauthorized({
              message: "writes are disabled: start the service with QUASAR_ADMIN_TOKEN set"
            })
          const credential = Bearer.presented(request)
          if (credential._tag === "Missing")
            return yield* new Unauthorized({
              message: "this write needs the header Authorization: Bearer <QUASAR_ADMIN_TOKEN>"
            })
          if (
            credential._tag === "Token" &&
            Bearer.sameSecret(credential.token, Redacted.value(config.adminToken.value))
          )
            return
          yield* throttle.failed(client)
          return yield* credential._tag === "Malformed"
            ? new Unauthorized({ message: "the Authorization header must be: Bearer <QUASAR_ADMIN_TOKEN>" })
            : new Forbidden({ message: "the bearer token is not the admin token" })
        })
    })
  })
)
