/**
 * The lifecycle of one provider connection as a pure reducer: which generation carries the
 * stream, the numbering of generations, when to open, hand over, close, back off or refuse, and
 * the reconnect count and last error the status shows. The driver (ProviderConnection) waits for
 * the events, performs the outputs and feeds time in with each event; nothing here runs an Effect
 * or reads a clock.
 */
import type { ConnectionState as StatusState } from "./SeriesState"

/** A generation as the lifecycle sees it: its number, symbols and when it was opened. */
export interface GenerationInfo {
  readonly n: number
  readonly symbols: ReadonlySet<string>
  readonly openedAt: number
}

/** Why a generation's stream ended (a provider error); a fatal refusal is not retried. */
export interface EndReason {
  readonly _tag: string
  readonly message: string
}

const isFatal = (reason: EndReason) => reason._tag === "ProviderFatalError"

export interface LifecycleState {
  /** A connection that stayed up this long (ms) backs off from the first delay again when lost. */
  readonly healthyAfterMs: number
  readonly primary: GenerationInfo | null
  /** The number of the last generation asked for. */
  readonly generations: number
  readonly reconnects: number
  readonly lastError: string | null
}

export type LifecycleEvent<E extends EndReason> =
  /** The loop's turn: the symbols the connection should carry now, in subscription order. */
  | { readonly _tag: "Tick"; readonly wanted: ReadonlyArray<string> }
  /** The generation asked for by `Open` is streaming. */
  | { readonly _tag: "Opened"; readonly generation: GenerationInfo }
  /** Members changed (after the debounce). */
  | { readonly _tag: "Changed"; readonly wanted: ReadonlyArray<string> }
  /** The primary's stream ended. */
  | { readonly _tag: "Ended"; readonly reason: E; readonly now: number }
  /** A handover candidate answered for every symbol, or the primary ended while it was opening. */
  | { readonly _tag: "HandedOver"; readonly candidate: GenerationInfo; readonly lost: E | null }
  /** A handover candidate ended before it was ready. */
  | {
      readonly _tag: "HandoverFailed"
      readonly candidate: GenerationInfo
      readonly reason: E
      readonly wanted: ReadonlyArray<string>
    }
  /** The control loop died of a defect. */
  | { readonly _tag: "Crashed" }

export type LifecycleOutput<E extends EndReason> =
  | { readonly _tag: "SetState"; readonly state: StatusState }
  | { readonly _tag: "Close"; readonly n: number }
  /** Open generation `n` with these symbols; `Opened` follows. */
  | { readonly _tag: "Open"; readonly n: number; readonly symbols: ReadonlyArray<string> }
  /** Open generation `n` beside the primary and race it against the primary's end. */
  | { readonly _tag: "Handover"; readonly n: number; readonly symbols: ReadonlyArray<string> }
  | { readonly _tag: "AwaitChange" }
  | { readonly _tag: "AwaitEndOrChange" }
  /** Count a lost connection (metric and log), with the reconnect count after it. */
  | {
      readonly _tag: "ReportLost"
      readonly n: number
      readonly reason: E
      readonly reconnects: number
    }
  | { readonly _tag: "ReportReopened"; readonly n: number; readonly symbols: number }
  | { readonly _tag: "ReportHandoverFailed"; readonly reason: E }
  /** Let series answered by `n` (none: by no generation) wait for a gap fill. */
  | { readonly _tag: "WaitUnlessAnswered"; readonly n: number | null }
  /** Put these symbols' subscriptions in error (all of them when `symbols` is null). */
  | { readonly _tag: "Refuse"; readonly symbols: ReadonlyArray<string> | null; readonly message: string }
  | { readonly _tag: "ResetBackoff" }
  | { readonly _tag: "Backoff"; readonly reason: E }
  /** Ask for the change again after a pause (a handover that may succeed later). */
  | { readonly _tag: "RetryChangeLater" }
  /** Wait before restarting the loop after a crash. */
  | { readonly _tag: "RestartLater" }

export interface LifecycleStep<E extends EndReason> {
  readonly state: LifecycleState
  readonly outputs: ReadonlyArray<LifecycleOutput<E>>
}

export const initialLifecycle = (healthyAfterMs: number): LifecycleState => ({
  healthyAfterMs,
  primary: null,
  generations: 0,
  reconnects: 0,
  lastError: null
})

const closePrimary = <E extends EndReason>(state: LifecycleState): ReadonlyArray<LifecycleOutput<E>> =>
  state.primary === null ? [] : [{ _tag: "Close", n: state.primary.n }]

export const stepLifecycle = <E extends EndReason>(
  state: LifecycleState,
  event: LifecycleEvent<E>
): LifecycleStep<E> => {
  switch (event._tag) {
    case "Tick": {
      if (event.wanted.length === 0)
        return {
          state: { ...state, primary: null },
          outputs: [
            ...closePrimary<E>(state),
            { _tag: "SetState", state: "stopped" },
            { _tag: "AwaitChange" }
          ]
        }
      if (state.primary === null) {
        const n = state.generations + 1
        return {
          state: { ...state, generations: n },
          outputs: [
            { _tag: "SetState", state: "connecting" },
            { _tag: "Open", n, symbols: event.wanted }
          ]
        }
      }
      return { state, outputs: [{ _tag: "AwaitEndOrChange" }] }
    }
    case "Opened":
      return { state: { ...state, primary: event.generation }, outputs: [{ _tag: "AwaitEndOrChange" }] }
    case "Changed": {
      const primary = state.primary
      // Removed symbols are only ignored until the next reopen; only an added one needs a handover.
      if (primary === null || event.wanted.every((s) => primary.symbols.has(s))) return { state, outputs: [] }
      const n = state.generations + 1
      return {
        state: { ...state, generations: n },
        outputs: [{ _tag: "Handover", n, symbols: event.wanted }]
      }
    }
    case "Ended": {
      const current = state.primary
      if (current === null) return { state, outputs: [] }
      const reconnects = state.reconnects + 1
      const next: LifecycleState = { ...state, primary: null, reconnects, lastError: event.reason.message }
      const lost: ReadonlyArray<LifecycleOutput<E>> = [
        { _tag: "Close", n: current.n },
        { _tag: "ReportLost", n: current.n, reason: event.reason, reconnects },
        { _tag: "WaitUnlessAnswered", n: null }
      ]
      if (isFatal(event.reason))
        return {
          state: next,
          outputs: [
            ...lost,
            {
              _tag: "Refuse",
              symbols: null,
              message: `the live connection was refused: ${event.reason.message}`
            }
          ]
        }
      // Reconnect after a backoff, from the first delay again if it had been up a while.
      const healthy = event.now - current.openedAt > state.healthyAfterMs
      return {
        state: next,
        outputs: [
          ...lost,
          { _tag: "SetState", state: "backoff" },
          ...(healthy ? [{ _tag: "ResetBackoff" } as const] : []),
          { _tag: "Backoff", reason: event.reason }
        ]
      }
    }
    case "HandedOver": {
      const current = state.primary
      const { candidate, lost } = event
      const closed: ReadonlyArray<LifecycleOutput<E>> =
        current === null ? [] : [{ _tag: "Close", n: current.n }]
      if (lost !== null && current !== null) {
        const reconnects = state.reconnects + 1
        return {
          state: { ...state, primary: candidate, reconnects, lastError: lost.message },
          outputs: [
            ...closed,
            { _tag: "ReportLost", n: current.n, reason: lost, reconnects },
            { _tag: "WaitUnlessAnswered", n: candidate.n }
          ]
        }
      }
      return {
        state: { ...state, primary: candidate },
        outputs: [
          ...closed,
          { _tag: "ReportReopened", n: candidate.n, symbols: candidate.symbols.size },
          { _tag: "WaitUnlessAnswered", n: candidate.n }
        ]
      }
    }
    case "HandoverFailed": {
      const current = state.primary
      const failed: ReadonlyArray<LifecycleOutput<E>> = [
        { _tag: "Close", n: event.candidate.n },
        { _tag: "ReportHandoverFailed", reason: event.reason }
      ]
      // Refused for good: the symbols only the candidate carried are in error, the others go on.
      if (isFatal(event.reason))
        return {
          state,
          outputs: [
            ...failed,
            {
              _tag: "Refuse",
              symbols: event.wanted.filter((s) => current === null || !current.symbols.has(s)),
              message: event.reason.message
            }
          ]
        }
      return { state, outputs: [...failed, { _tag: "RetryChangeLater" }] }
    }
    case "Crashed":
      return {
        state: { ...state, primary: null },
        outputs: [
          ...closePrimary<E>(state),
          { _tag: "WaitUnlessAnswered", n: null },
          { _tag: "RestartLater" }
        ]
      }
  }
}
