import { Cause, type Duration, Effect, Schedule } from "effect"

/**
 * A background chore (re-read, housekeeping, a feed) that runs every `every` for the life of
 * the scope: a failure is logged with its name and the next round tries again, so it never
 * dies silently and never takes the service down.
 */
export const forever = (name: string, effect: Effect.Effect<void, unknown>, every: Duration.DurationInput) =>
  effect.pipe(
    Effect.catchAllCause((cause) =>
      Effect.logWarning(`${name} failed; trying again later`, Cause.squash(cause))
    ),
    Effect.repeat(Schedule.spaced(every)),
    Effect.forkScoped
  )
