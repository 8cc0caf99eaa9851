/**
 * The SDK `Logger` a provider writes to, forwarded to the host's Effect logger so provider lines
 * carry the same annotations, level filter and sink as the rest of the service.
 */
import { Effect, Runtime } from "effect"
import type { Logger } from "../sdk/types"

export const providerLogger = (provider: string): Effect.Effect<Logger> =>
  Effect.map(Effect.runtime<never>(), (runtime) => {
    const run = Runtime.runSync(runtime)
    const at =
      (log: (message: string) => Effect.Effect<void>) =>
      (message: string, fields?: Readonly<Record<string, unknown>>): void =>
        run(log(message).pipe(Effect.annotateLogs({ ...fields, provider })))
    return {
      debug: at((m) => Effect.logDebug(m)),
      info: at((m) => Effect.logInfo(m)),
      warn: at((m) => Effect.logWarning(m)),
      error: at((m) => Effect.logError(m))
    }
  })
