/** `AdminAuth` (people's writes): the admin token; none → 401, a wrong one → 403. */
import { AdminAuth, Forbidden, Unauthorized } from "@quasar/domain"
import { Effect, Layer, Option } from "effect"
import { AuthThrottle } from "./AuthThrottle"
import * as Bearer from "./Bearer"
import { ServiceConfig } from "./ServiceConfig"

export const AdminAuthLive = Layer.effect(
  AdminAuth,
  Effect.gen(function* () {
    const config = yield* ServiceConfig
    const throttle = yield* AuthThrottle
    const check = Bearer.verify(throttle, config.adminToken).pipe(
      Effect.flatMap((verdict): Effect.Effect<void, Unauthorized | Forbidden> => {
        switch (verdict) {
          case "valid":
            return Effect.void
          case "missing":
            return Effect.fail(
              new Unauthorized({
                message: "this write needs the header Authorization: Bearer <QUASAR_ADMIN_TOKEN>"
              })
            )
          case "malformed":
            return Effect.fail(
              new Unauthorized({ message: "the Authorization header must be: Bearer <QUASAR_ADMIN_TOKEN>" })
            )
          case "wrong":
            return Effect.fail(new Forbidden({ message: "the bearer token is not the admin token" }))
        }
      })
    )
    return AdminAuth.of({
      adminToken: () =>
        Option.isNone(config.adminToken)
          ? Effect.fail(
              new Unauthorized({
                message: "writes are disabled: start the service with QUASAR_ADMIN_TOKEN set"
              })
            )
          : check
    })
  })
)
