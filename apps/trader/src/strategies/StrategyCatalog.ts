/**
 * Strategy code as the Registry keeps it (code kind `strategy`): the version to run (the active
 * one unless asked), its source and sha256, and the manifest its sandboxed validation recorded,
 * which says the params spec, universe and warm-up Trader needs before any code runs.
 */
import type { CodeLanguage, InvalidRequest, NotFound, ServiceUnavailable } from "@quasar/domain"
import type { ParamsSpec, Universe } from "@quasar/providers/sdk"
import { Context, type Effect } from "effect"

/** What Trader needs of a strategy's manifest, in the SDK's terms (params as a record). */
export interface StrategySpec {
  /** The version string the module declares (`defineStrategy({ version })`). */
  readonly version: string
  readonly params: ParamsSpec
  readonly universe: Universe
  readonly warmup: number
}

export interface StrategyCode {
  readonly name: string
  readonly version: number
  readonly language: CodeLanguage
  readonly sha256: string
  readonly source: string
  readonly manifest: StrategySpec
}

export class StrategyCatalog extends Context.Tag("@quasar/trader/StrategyCatalog")<
  StrategyCatalog,
  {
    /**
     * NotFound: no such strategy, version, or (without a version) no active version;
     * InvalidRequest: the code is not a strategy, or the version did not pass validation.
     */
    readonly code: (
      name: string,
      version: number | undefined
    ) => Effect.Effect<StrategyCode, NotFound | InvalidRequest | ServiceUnavailable>
  }
>() {}
