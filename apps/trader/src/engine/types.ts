import type { BarColumns, FillSettings, ProviderName } from "@quasar/domain"
import type { Strategy } from "@quasar/providers/sdk"

/** One symbol's bars as columns, ascending by `ts`: the domain's, as DataHub sends them. */
export type { BarColumns } from "@quasar/domain"

/** Everything a run needs; the result records all of it but the bars and the code itself. */
export interface BacktestInput {
  readonly strategy: Strategy
  /** sha256 of the strategy's source, recorded so that a result names the exact code it ran. */
  readonly codeSha256: string
  /** The requested parameters; defaults fill in the rest. */
  readonly params: Readonly<Record<string, unknown>>
  readonly provider: ProviderName
  /** Bars before `from` warm up the windows and indicators; `onBar` sees bars in [from, to). */
  readonly from: number
  readonly to: number
  readonly initialCash: number
  readonly fill: FillSettings
  /** Keyed by universe key (`universeKey`); every member must be present. */
  readonly bars: ReadonlyMap<string, BarColumns>
}
