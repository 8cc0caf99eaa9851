/** The live status endpoint: the supervisor's connections and series, and the `/live` clients. */
import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { Effect } from "effect"
import { LiveSupervisor } from "./live/LiveSupervisor"

export const LiveApiLive = HttpApiBuilder.group(DataHubApi, "live", (handlers) =>
  Effect.map(LiveSupervisor, (live) => handlers.handle("status", () => live.status))
)
