import { HttpApiBuilder } from "@effect/platform"
import { TraderApi } from "@quasar/domain"
import { Health, Metrics } from "@quasar/server"
import { Effect } from "effect"

export const HealthApiLive = HttpApiBuilder.group(TraderApi, "health", (handlers) =>
  Effect.map(Health.Health, (health) =>
    handlers.handle("health", () => health.respond).handle("metrics", () => Metrics.prometheusText)
  )
)
