/**
 * DataHub: the collection history of a series — every run that covered a range, with what it
 * wrote, how often it retried and what failed, and the ranges the provider answered empty. It is
 * how an operator answers "why are bars missing for X between t1 and t2" from Quasar alone.
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { BodyPolicy } from "./BodyPolicy"
import { MarketSymbol, ProviderName, Timestamp } from "./Common"
import { TimeframeFromString } from "./Timeframe"

export const CollectionRunView = Schema.Struct({
  id: Schema.Int,
  subscription: Schema.NullOr(Schema.Int),
  kind: Schema.Literal("backfill", "update", "gap"),
  from: Timestamp,
  to: Timestamp,
  status: Schema.Literal("running", "ok", "empty", "failed", "interrupted"),
  rows: Schema.Int,
  pages: Schema.Int,
  retries: Schema.Int,
  error: Schema.NullOr(Schema.String),
  startedAt: Timestamp,
  durationMs: Schema.NullOr(Schema.Int)
}).annotations({ identifier: "CollectionRun" })

export const EmptyRangeView = Schema.Struct({
  from: Timestamp,
  to: Timestamp,
  attempts: Schema.Int,
  checkedAt: Timestamp
}).annotations({ identifier: "EmptyRange" })

export const CollectionHistory = Schema.Struct({
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: Schema.String,
  /** Newest first. */
  runs: Schema.Array(CollectionRunView),
  emptyRanges: Schema.Array(EmptyRangeView),
  /** Bars stored in the window, for comparing with what the runs say they wrote. */
  stored: Schema.Int
}).annotations({ identifier: "CollectionHistory" })

export const CollectionQuery = Schema.Struct({
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: TimeframeFromString,
  /** Runs whose range overlaps [from, to); both default to "any". */
  from: Schema.optional(Timestamp),
  to: Schema.optional(Timestamp),
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1_000)))
})

export class CollectionGroup extends HttpApiGroup.make("collection")
  .add(
    HttpApiEndpoint.get("history", "/collection/runs")
      .setUrlParams(CollectionQuery)
      .addSuccess(CollectionHistory)
      .annotate(OpenApi.Description, "Why bars are (or are not) there: the runs that covered a range")
  )
  .middleware(BodyPolicy)
  .annotate(OpenApi.Description, "Collection history per series") {}
