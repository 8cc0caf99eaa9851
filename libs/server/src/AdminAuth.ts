import { AdminAuth, Forbidden, Unauthorized } from "@quasar/domain"
import { Effect, Layer, Option, Redacted } from "effect"
import { ServiceConfig } from "./ServiceConfig"

/** Constant-time comparison, so a wrong token's timing says nothing about the right one. */
const same = (a: string, b: string) => {
  const x = new TextEncoder().encode(a)
  const y = new TextEncoder().encode(b)
  let diff = x.length ^ y.length
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return diff === 0
}

export const AdminAuthLive = Layer.effect(
  AdminAuth,
  Effect.map(ServiceConfig, (config) =>
    AdminAuth.of({
      bearer: (token) => {
        const given = Redacted.value(token).trim()
        if (Option.isNone(config.adminToken))
          return Effect.fail(
            new Unauthorized({
              message: "writes are disabled: start the service with QUASAR_ADMIN_TOKEN set"
            })
          )
        if (given === "")
          return Effect.fail(
            new Unauthorized({
              message: "this write needs the header Authorization: Bearer <QUASAR_ADMIN_TOKEN>"
            })
          )
        return same(given, Redacted.value(config.adminToken.value))
          ? Effect.void
          : Effect.fail(new Forbidden({ message: "the bearer token is not the admin token" }))
      }
    })
  )
)
