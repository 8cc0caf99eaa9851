import { SqlError } from "@effect/sql"
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
