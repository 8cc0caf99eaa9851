/**
 * The migrator's view of one in-process PGlite session (the TimescaleDB build included, which
 * crashes behind the session front and so is driven directly); transactions are plain
 * BEGIN/COMMIT on it. Typed by the two calls it uses, so either PGlite build fits.
 */
import { Effect, Exit } from "effect"
import { type MigrationDb, MigrationError } from "../Migrator"

export interface Session {
  readonly exec: (statement: string) => Promise<unknown>
  readonly query: <A>(statement: string) => Promise<{ readonly rows: ReadonlyArray<A> }>
}

const failure = (statement: string) => (cause: unknown) =>
  new MigrationError({
    message: `${cause instanceof Error ? cause.message : String(cause)} (in: ${statement.trim().slice(0, 120)})`,
    cause
  })

export const make = (pg: Session): MigrationDb => {
  const exec = (statement: string) =>
    Effect.tryPromise({ try: () => pg.exec(statement), catch: failure(statement) }).pipe(Effect.asVoid)
  return {
    exec,
    query: <A extends object>(statement: string) =>
      Effect.tryPromise({ try: () => pg.query<A>(statement), catch: failure(statement) }).pipe(
        Effect.map((r): ReadonlyArray<A> => r.rows)
      ),
    transaction: <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          yield* exec("BEGIN")
          const exit = yield* Effect.exit(restore(effect))
          if (Exit.isSuccess(exit)) {
            yield* exec("COMMIT")
            return exit.value
          }
          yield* exec("ROLLBACK").pipe(Effect.ignore)
          return yield* exit
        })
      )
  }
}
