/**
 * Where collected bars come from. The scheduler only knows this interface: in production the
 * ProviderPool runs each provider's active code in its sandbox; tests and benchmarks run
 * provider objects in-process (`testing/InProcessSources.ts`).
 *
 * A required service: an app without a source does not type-check.
 */
import type { NotFound, ProviderError, ServiceUnavailable } from "@quasar/domain"
import type { HistoryRequest, Timeframe } from "@quasar/providers/sdk"
import { Context, type Effect, type Stream } from "effect"
import type { HistoryChunk } from "../sandbox/providerHost"

export type { HistoryRequest } from "@quasar/providers/sdk"
export type { HistoryChunk } from "../sandbox/providerHost"

/** What the scheduler needs to know about a provider before asking it for bars. */
export interface ProviderDescription {
  readonly name: string
  readonly timeframes: ReadonlyArray<Timeframe>
  /** How long after a bar closes the provider has it (EODHD daily: hours); 0 when immediate. */
  readonly publishDelayMs: number
}

export interface BarSourceService {
  /**
   * Closed, screened bars in [from, to), one chunk per provider page, pulled one at a time.
   * Retryable vs fatal failures keep their class; nothing here retries.
   */
  readonly history: (provider: string, request: HistoryRequest) => Stream.Stream<HistoryChunk, ProviderError>
  /** NotFound when no such provider runs here; ServiceUnavailable when that cannot be told now. */
  readonly describe: (provider: string) => Effect.Effect<ProviderDescription, NotFound | ServiceUnavailable>
}

export class BarSource extends Context.Tag("@quasar/datahub/collect/BarSource")<
  BarSource,
  BarSourceService
>() {}
