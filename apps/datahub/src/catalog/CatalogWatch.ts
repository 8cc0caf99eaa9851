/**
 * The watch on the Registry's change counter as a pure reducer: each answer or failure of a long
 * poll gives the next state, what to drop from the cache, whether to say anything, and how long
 * to wait before asking again. The fiber driving it (`RegistryCatalog`) only does I/O.
 */
import type { CatalogChange, CatalogChanges } from "@quasar/domain"

export interface WatchState {
  /** The counter to wait from; undefined until the Registry first answers. */
  readonly cursor: number | undefined
  /** Failed asks in a row. */
  readonly failures: number
}

export type WatchEvent =
  | { readonly _tag: "Answered"; readonly answer: CatalogChanges }
  | { readonly _tag: "Failed"; readonly message: string }

export interface WatchStep {
  readonly state: WatchState
  /** What the cache forgets: everything, or what the changes touched. */
  readonly invalidate: "all" | ReadonlyArray<CatalogChange>
  readonly log: { readonly level: "warning" | "info"; readonly message: string } | undefined
  /** 0: ask again at once (the answer itself waited). */
  readonly retryAfterMs: number
}

export const initial: WatchState = { cursor: undefined, failures: 0 }

const FIRST_RETRY_MS = 500
const MAX_RETRY_MS = 5_000

export const retryDelay = (failures: number) => Math.min(FIRST_RETRY_MS * 2 ** (failures - 1), MAX_RETRY_MS)

/**
 * Failed asks before a Registry that has never answered is worth a warning: at start the services
 * come up together and DataHub may ask first (5 s at the most between asks, about 20 s in all).
 */
export const STARTUP_PATIENCE = 7

const failureLog = (state: WatchState, failures: number, message: string): WatchStep["log"] => {
  if (state.cursor === undefined) {
    if (failures === 1) return { level: "info", message: `waiting for the Registry to answer (${message})` }
    if (failures === STARTUP_PATIENCE)
      return {
        level: "warning",
        message: `the Registry has not answered since DataHub started (${message}); nothing of its catalogue is known yet, so no provider runs until it answers`
      }
    return undefined
  }
  // One line per outage, not one per retry; meanwhile whatever is cached keeps serving.
  return failures === 1
    ? {
        level: "warning",
        message: `cannot follow the Registry's changes (${message}); serving the cached catalogue until it answers`
      }
    : undefined
}

export const step = (state: WatchState, event: WatchEvent): WatchStep => {
  if (event._tag === "Failed") {
    const failures = state.failures + 1
    return {
      state: { cursor: state.cursor, failures },
      invalidate: [],
      log: failureLog(state, failures, event.message),
      retryAfterMs: retryDelay(failures)
    }
  }
  const { answer } = event
  // The first answer, or one the Registry could not tell from the cursor: nothing cached is sure.
  const everything = answer.reset || state.cursor === undefined
  return {
    state: { cursor: answer.cursor, failures: 0 },
    invalidate: everything ? "all" : answer.changes,
    log:
      state.failures > 0
        ? { level: "info", message: "the Registry answers again; catching up on its changes" }
        : undefined,
    retryAfterMs: 0
  }
}
