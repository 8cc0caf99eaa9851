/**
 * A stored strategy manifest in the SDK's terms: the Registry keeps params as an ordered list of
 * `{ key, … }` (a form shows them in the author's order); `resolveParams` takes them as a record.
 */
import type { StrategyManifest } from "@quasar/domain"
import type { ParamSpec } from "@quasar/providers/sdk"
import type { StrategySpec } from "./StrategyCatalog"

export const strategySpec = (manifest: StrategyManifest): StrategySpec => ({
  version: manifest.version,
  params: Object.fromEntries(manifest.params.map(({ key, ...spec }): [string, ParamSpec] => [key, spec])),
  universe: manifest.universe,
  warmup: manifest.warmup
})
