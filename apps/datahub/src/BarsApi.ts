/** `GET /bars` and `GET /bars/latest`, answered by the `BarReader`. */
import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { Effect, Layer } from "effect"
import { BarReader } from "./bars/BarReader"

export const BarsApiLive = HttpApiBuilder.group(DataHubApi, "bars", (handlers) =>
  Effect.map(BarReader, (bars) =>
    handlers
      .handleRaw("query", ({ urlParams }) => bars.query(urlParams))
      .handle("latest", ({ urlParams }) => bars.latest(urlParams))
  )
).pipe(Layer.provide(BarReader.layer))
