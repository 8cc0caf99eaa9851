/** How many subscriptions use a provider: the Registry asks before it deletes a running version. */
import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi, ServiceUnavailable } from "@quasar/domain"
import { Effect } from "effect"
import { SubscriptionRepo } from "./collect/SubscriptionRepo"

export const CodeUsageApiLive = HttpApiBuilder.group(DataHubApi, "codeUsage", (handlers) =>
  Effect.map(SubscriptionRepo, (repo) =>
    handlers.handle("usage", ({ path }) =>
      repo.countFor(path.name).pipe(
        Effect.map((subscriptions) => ({ name: path.name, subscriptions })),
        Effect.mapError(
          (e) =>
            new ServiceUnavailable({
              message: `cannot count the subscriptions of "${path.name}" (${e.message}); retry shortly`
            })
        )
      )
    )
  )
)
