/**
 * Strategies for tests, as the Registry would hold them: each a named, numbered version with a
 * source text (its sha256 names the code) and the strategy object the in-process executor runs.
 * `catalog` serves them as the `StrategyCatalog`, with the manifest the SDK object declares.
 */
import { createHash } from "node:crypto"
import { NotFound } from "@quasar/domain"
import type { Strategy } from "@quasar/providers/sdk"
import { Effect, Layer } from "effect"
import { StrategyCatalog } from "../strategies/StrategyCatalog"

export interface StrategyModule {
  readonly name: string
  readonly version: number
  readonly active: boolean
  readonly source: string
  readonly sha256: string
  readonly strategy: Strategy
}

export const strategyModule = (
  name: string,
  version: number,
  strategy: Strategy,
  options: { readonly active?: boolean; readonly source?: string } = {}
): StrategyModule => {
  const source =
    options.source ?? `// ${name} version ${version}\nexport default ${JSON.stringify(strategy.name)}\n`
  return {
    name,
    version,
    active: options.active ?? true,
    source,
    sha256: createHash("sha256").update(source).digest("hex"),
    strategy
  }
}

export const catalog = (modules: ReadonlyArray<StrategyModule>) =>
  Layer.succeed(StrategyCatalog, {
    code: (name, version) => {
      const found = modules.find(
        (m) => m.name === name && (version === undefined ? m.active : m.version === version)
      )
      return found === undefined
        ? Effect.fail(
            new NotFound({
              message:
                version === undefined
                  ? `strategy ${name} has no active version`
                  : `strategy ${name} has no version ${version}`
            })
          )
        : Effect.succeed({
            name: found.name,
            version: found.version,
            language: "typescript" as const,
            sha256: found.sha256,
            source: found.source,
            manifest: {
              version: found.strategy.version,
              params: found.strategy.params,
              universe: found.strategy.universe,
              warmup: found.strategy.warmup
            }
          })
    }
  })
