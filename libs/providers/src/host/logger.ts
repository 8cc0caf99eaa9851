/**
 * The SDK `Logger` a provider writes to, forwarded to the host's Effect logger so provider lines
 * carry the same annotations, level filter and sink as the rest of the service. The provider's
 * fields go under one `fields` annotation: the host's own keys (time, level, service, message,
 * provider, trace and span ids) stay the host's whatever the provider logs.
 */
import { Effect, Runtime } from "effect"
import type { Logger } from "../sdk/types"

export const providerLogger = (
  provider: string,
  annotations: Readonly<Record<string, unknown>> = {}
): Effect.Effect<Logger> =>
  Effect.map(Effect.runtime<never>(), (runtime) => {
    const run = Runtime.runSync(runtime)
    const at =
      (log: (message: string) => Effect.Effect<void>) =>
      (message: string, fields?: Readonly<Record<string, unknown>>): void =>
        run(
          log(message).pipe(
            Effect.annotateLogs({ ...annotations, provider, ...(fields === undefined ? {} : { fields }) })
          )
        )
    return {
      debug: at((m) => Effect.logDebug(m)),
      info: at((m) => Effect.logInfo(m)),
      warn: at((m) => Effect.logWarning(m)),
      error: at((m) => Effect.logError(m))
    }
  })
