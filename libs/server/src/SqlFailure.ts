import { SqlError } from "@effect/sql"
import { ServiceUnavailable } from "@quasar/domain"
import { Effect } from "effect"

/**
 * A handler's database failure is not the caller's fault and not something it can act on: turn
 * it into a defect (logged with its cause, answered 500) so endpoints declare only the errors a
 * client can do something about.
 */
export const orDieOnSql = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, Extract<E, SqlError.SqlError>>, R> =>
  Effect.catchIf(
    self,
    (e): e is Extract<E, SqlError.SqlError> => e instanceof SqlError.SqlError,
    (e) => Effect.die(e)
  )

/**
 * A database failure the caller can retry: a 503 `ServiceUnavailable` with `message`, for
 * endpoints that declare it (the database may be back in a moment).
 */
export const orUnavailableOnSql =
  (message: (e: SqlError.SqlError) => string) =>
  <A, E, R>(
    self: Effect.Effect<A, E, R>
  ): Effect.Effect<A, Exclude<E, Extract<E, SqlError.SqlError>> | ServiceUnavailable, R> =>
    Effect.catchIf(
      self,
      (e): e is Extract<E, SqlError.SqlError> => e instanceof SqlError.SqlError,
      (e) => Effect.fail(new ServiceUnavailable({ message: message(e) }))
    )
