/** `GET /collection/runs`: a series' collection history, straight from the repository. */
import { HttpApiBuilder } from "@effect/platform"
import { CollectionHistory, DataHubApi } from "@quasar/domain"
import { orDieOnSql } from "@quasar/server"
import { DateTime, Effect, Schema } from "effect"
import { CollectionHistoryRepo } from "./collect/CollectionHistoryRepo"

const decode = Schema.decodeUnknown(CollectionHistory)
const iso = (d: Date) => d.toISOString()

export const CollectionApiLive = HttpApiBuilder.group(DataHubApi, "collection", (handlers) =>
  Effect.map(CollectionHistoryRepo, (repo) =>
    handlers.handle("history", ({ urlParams: q }) =>
      Effect.gen(function* () {
        const series = { provider: q.provider, symbol: q.symbol, timeframe: q.timeframe }
        const found = yield* orDieOnSql(
          repo.history(series, {
            from: q.from ? DateTime.toDate(q.from) : null,
            to: q.to ? DateTime.toDate(q.to) : null,
            limit: q.limit ?? 200
          })
        )
        return yield* decode({
          ...series,
          runs: found.runs.map((r) => ({
            id: r.id,
            subscription: r.subscription_id,
            kind: r.kind,
            from: iso(r.range_from),
            to: iso(r.range_to),
            status: r.status,
            rows: r.rows_written,
            pages: r.pages,
            retries: r.retries,
            error: r.error,
            startedAt: iso(r.started_at),
            durationMs: r.duration_ms
          })),
          emptyRanges: found.emptyRanges.map((e) => ({
            from: iso(e.range_from),
            to: iso(e.range_to),
            attempts: e.attempts,
            checkedAt: iso(e.checked_at)
          })),
          stored: found.stored
        }).pipe(Effect.orDie)
      })
    )
  )
)
