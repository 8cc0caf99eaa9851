/**
 * The host's log call for each level a child's `Log` line may carry: every app logs its children's
 * lines at the level the sandboxed code chose.
 */
import { Effect } from "effect"

export const logAtLevel = {
  debug: Effect.logDebug,
  info: Effect.logInfo,
  warn: Effect.logWarning,
  error: Effect.logError
} as const
