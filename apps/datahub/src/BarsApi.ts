/** `GET /bars` and `GET /bars/latest`, answered by the `BarReader`; `GET /bars/columns` by the `BarColumnsReader`. */
import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { Effect, Layer } from "effect"
import { BarColumnsReader } from "./bars/BarColumnsReader"
import { BarReader } from "./bars/BarReader"

export const BarsApiLive = HttpApiBuilder.group(DataHubApi, "bars", (handlers) =>
  Effect.gen(function* () {
    const bars = yield* BarReader
    const columns = yield* BarColumnsReader
    return handlers
      .handleRaw("query", ({ urlParams }) => bars.query(urlParams))
      .handle("latest", ({ urlParams }) => bars.latest(urlParams))
      .handleRaw("columns", ({ urlParams }) => columns.columns(urlParams))
  })
).pipe(Layer.provide([BarReader.layer, BarColumnsReader.layer]))
