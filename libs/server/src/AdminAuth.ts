/** `AdminAuth` (people's writes): the admin token; none → 401, a wrong one → 403. */
import { AdminAuth, Forbidden, Unauthorized } from "@quasar/domain"
import { Effect, Layer, Option } from "effect"
import { AuthThrottle } from "./AuthThrottle"
import * as Bearer from "./Bearer"
import { ServiceConfig } from "./ServiceConfig"

const refusals: Record<Exclude<Bearer.Verdict, "valid">, Unauthorized | Forbidden> = {
  missing: new Unauthorized({
    message: "this write needs the header Authorization: Bearer <QUASAR_ADMIN_TOKEN>"
  }),
  malformed: new Unauthorized({ message: "the Authorization header must be: Bearer <QUASAR_ADMIN_TOKEN>" }),
  wrong: new Forbidden({ message: "the bearer token is not the admin token" })
}

const disabled = new Unauthorized({
  message: "writes are disabled: start the service with QUASAR_ADMIN_TOKEN set"
})

export const AdminAuthLive = Layer.effect(
  AdminAuth,
  Effect.gen(function* () {
    const config = yield* ServiceConfig
    const throttle = yield* AuthThrottle
    const check = Effect.flatMap(Bearer.verify(throttle, config.adminToken), (verdict) =>
      verdict === "valid" ? Effect.void : Effect.fail(refusals[verdict])
    )
    return AdminAuth.of({
      adminToken: () => (Option.isNone(config.adminToken) ? Effect.fail(disabled) : check)
    })
  })
)
