/**
 * Throttles credential guessing. A client address that presented `maxFailures` wrong credentials
 * (admin or service token) within the last `windowSeconds` gets 429 with `Retry-After` on every
 * guarded endpoint, its credential unchecked, until the oldest of those failures is a window
 * old. A client can thus try at most `maxFailures` credentials per window; missing credentials
 * are not guesses and do not count.
 *
 * The rule is the pure pair `recordFailure` / `waitMillis` over each client's recent failure
 * times; the service keeps them per client, reading time from `Clock`.
 */
import { TooManyAttempts } from "@quasar/domain"
import { Clock, Context, Effect, Layer } from "effect"
import { ServiceConfig } from "./ServiceConfig"

export interface ThrottlePolicy {
  readonly maxFailures: number
  readonly windowSeconds: number
}

/** A client's recent failures (epoch ms, oldest first), after one more at `now`. */
export const recordFailure = (
  policy: ThrottlePolicy,
  failures: ReadonlyArray<number>,
  now: number
): ReadonlyArray<number> => {
  const since = now - policy.windowSeconds * 1000
  return [...failures.filter((t) => t > since), now].slice(-policy.maxFailures)
}

/** How long a client with these recent failures must wait before its next attempt; 0 = not at all. */
export const waitMillis = (policy: ThrottlePolicy, failures: ReadonlyArray<number>, now: number): number => {
  if (failures.length < policy.maxFailures) return 0
  const oldest = failures[failures.length - policy.maxFailures] ?? now
  return Math.max(0, oldest + policy.windowSeconds * 1000 - now)
}

/** Client addresses remembered at most; beyond, stale ones go first, then the least recent. */
const MAX_CLIENTS = 10_000

export class AuthThrottle extends Context.Tag("@quasar/server/AuthThrottle")<
  AuthThrottle,
  {
    /** Seconds `client` must wait before a credential of its is checked again; 0 = check now. */
    readonly retryAfterSeconds: (client: string) => Effect.Effect<number>
    /** `client` presented a wrong credential. */
    readonly failed: (client: string) => Effect.Effect<void>
  }
>() {
  /** Fails while `client` must wait: its credential is not even looked at. */
  static readonly check = (throttle: AuthThrottle["Type"], client: string) =>
    Effect.flatMap(throttle.retryAfterSeconds(client), (seconds) =>
      seconds > 0
        ? Effect.fail(
            new TooManyAttempts({
              retryAfterSeconds: seconds,
              message: `too many wrong credentials from ${client}; try again in ${seconds} s`
            })
          )
        : Effect.void
    )

  static readonly make = (policy: ThrottlePolicy) => {
    const clients = new Map<string, ReadonlyArray<number>>()
    const makeRoom = (now: number) => {
      if (clients.size < MAX_CLIENTS) return
      const since = now - policy.windowSeconds * 1000
      for (const [client, failures] of clients)
        if ((failures[failures.length - 1] ?? 0) <= since) clients.delete(client)
      const least = clients.keys().next()
      if (clients.size >= MAX_CLIENTS && !least.done) clients.delete(least.value)
    }
    return AuthThrottle.of({
      retryAfterSeconds: (client) =>
        Effect.map(Clock.currentTimeMillis, (now) =>
          Math.ceil(waitMillis(policy, clients.get(client) ?? [], now) / 1000)
        ),
      failed: (client) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const failures = recordFailure(policy, clients.get(client) ?? [], now)
          clients.delete(client)
          makeRoom(now)
          clients.set(client, failures)
        })
    })
  }

  static readonly layer = Layer.effect(
    AuthThrottle,
    Effect.map(ServiceConfig, (config) => AuthThrottle.make(config.authThrottle))
  )
}
