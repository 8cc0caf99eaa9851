/**
 * Tells services about changes (a version activated, a subscription added) through the
 * `change_events` table of the service's own schema (`registry.change_events`,
 * `datahub.change_events`): each service publishes into and reads its own. It works identically on PostgreSQL, TimescaleDB and embedded PGlite,
 * where LISTEN/NOTIFY does not cross the session front (one connection holds the session at a time). Readers poll a short recent window and
 * de-duplicate by id, so an event committed late by a slow transaction is still seen.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Context, Duration, Effect, Layer, Schedule, Stream } from "effect"

export interface Change {
  readonly id: number
  readonly channel: string
  readonly payload: unknown
}

const POLL = Duration.millis(400)
/** The advisory lock key that orders publications (an arbitrary constant of this module). */
const PUBLISH_LOCK = 0x51_43_46 // "QCF"
/** How far back each poll looks; longer than any transaction that publishes. */
const WINDOW_SECONDS = 30

export class ChangeFeed extends Context.Tag("@quasar/server/ChangeFeed")<
  ChangeFeed,
  {
    readonly publish: (
      channel: string,
      payload: unknown
    ) => Effect.Effect<void, import("@effect/sql").SqlError.SqlError>
    /** Changes on `channel` published from now on, each once. */
    readonly changes: (channel: string) => Stream.Stream<Change>
  }
>() {}

/** `schema`: the service's own schema, whose `change_events` this feed uses. */
export const layer = (schema: string) =>
  Layer.scoped(
    ChangeFeed,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const events = sql(`${schema}.change_events`)

      /**
       * Events commit in the order of their ids: the lock is held until the publishing transaction
       * commits, so a reader that has seen id n has seen every event below it (the Registry's
       * catalogue hands out the newest id as a counter to wait from).
       */
      const publish = (channel: string, payload: unknown) =>
        Effect.zipRight(
          sql`SELECT pg_advisory_xact_lock(${PUBLISH_LOCK})`,
          sql`INSERT INTO ${events} (channel, payload) VALUES (${channel}, ${JSON.stringify(payload)}::jsonb)`
        ).pipe(
          sql.withTransaction,
          Effect.asVoid,
          Effect.withSpan("change.publish", { attributes: { channel } })
        )

      const recent = (channel: string) =>
        sql<{ id: number; payload: unknown }>`
        SELECT id, payload FROM ${events}
        WHERE channel = ${channel} AND created_at > now() - make_interval(secs => ${WINDOW_SECONDS})
        ORDER BY id`

      const changes = (channel: string): Stream.Stream<Change> =>
        Stream.unwrap(
          Effect.gen(function* () {
            // Everything already in the window counts as seen: only later changes are delivered.
            const seen = new Map<number, number>()
            // Until the first read succeeds nothing is known to be old, so wait for it (database down).
            const initial = yield* recent(channel).pipe(Effect.retry(Schedule.spaced(POLL)), Effect.orDie)
            const readAt = yield* Clock.currentTimeMillis
            for (const r of initial) seen.set(r.id, readAt)
            let failing = false
            const poll = recent(channel).pipe(
              Effect.zip(Clock.currentTimeMillis),
              Effect.map(([rows, now]) => {
                for (const [id, at] of seen) if (now - at > 2 * WINDOW_SECONDS * 1000) seen.delete(id)
                const fresh = rows.filter((r) => !seen.has(r.id))
                for (const r of fresh) seen.set(r.id, now)
                return fresh.map((r): Change => ({ id: r.id, channel, payload: r.payload }))
              }),
              Effect.tap(() => {
                failing = false
              }),
              // One warning per outage, not one per poll.
              Effect.tapError((e) =>
                failing
                  ? Effect.void
                  : Effect.sync(() => {
                      failing = true
                    }).pipe(
                      Effect.zipRight(
                        Effect.logWarning("change feed poll failed; retrying", { channel, error: e.message })
                      )
                    )
              ),
              Effect.orElseSucceed((): Array<Change> => [])
            )
            return Stream.repeatEffectWithSchedule(poll, Schedule.spaced(POLL)).pipe(Stream.flattenIterables)
          })
        )

      // Old events are only history; prune them now and then so the table stays small.
      yield* sql`DELETE FROM ${events} WHERE created_at < now() - interval '1 day'`.pipe(
        Effect.ignore,
        Effect.repeat(Schedule.spaced("1 hour")),
        Effect.forkScoped
      )

      return { publish, changes }
    })
  )
