/**
 * esbuild's JavaScript API runs one long-lived service process for the whole service; when
 * it dies (an upload nested deeply enough overflows its parser's stack), every later build
 * fails with "The service is no longer running" and no validation runs or sandbox starts. This
 * module owns the one esbuild instance: a build that finds the service dead loads a fresh copy
 * of the module (and so a fresh service), and /health shows each death (see `bundlerHealth`).
 */
import { createRequire } from "node:module"
import type { HealthComponent } from "@quasar/domain"
import { Effect } from "effect"
import type * as Esbuild from "esbuild"

const require = createRequire(import.meta.url)
const entry = require.resolve("esbuild")

/** One copy of the esbuild module; a fresh one starts its own service process. */
const load = (): typeof Esbuild => {
  delete require.cache[entry]
  return require(entry) as typeof Esbuild
}

let current: typeof Esbuild = load()
let deaths = 0
let lastDeath: { readonly at: Date; readonly during: string } | undefined
let restartFailure: string | undefined

/** esbuild's words for a service that died under a build ("was stopped") or before it ("no longer running"). */
const DIED_DURING = /The service was stopped/
const DEAD_BEFORE = /The service is no longer running/

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** The bundler died while building this input: the input's fault, reported to its author. */
export class BundlerDied extends Error {
  override readonly name = "BundlerDied"
}

const restart = (instance: typeof Esbuild, during: string) => {
  // Several builds may see the same death; the first one restarts.
  if (instance !== current) return
  deaths += 1
  lastDeath = { at: new Date(), during }
  try {
    current = load()
    restartFailure = undefined
  } catch (e) {
    restartFailure = messageOf(e)
  }
}

/**
 * `esbuild.build` on a live service. A service found dead before the build is restarted and the
 * build retried once; one that dies during the build is restarted and the build fails with
 * `BundlerDied` (retrying would kill it again).
 */
export const build = async <O extends Esbuild.BuildOptions>(
  options: Esbuild.SameShape<Esbuild.BuildOptions, O>,
  what: string
): Promise<Esbuild.BuildResult<O>> => {
  for (let attempt = 0; ; attempt++) {
    const instance = current
    try {
      return await instance.build(options)
    } catch (e) {
      const message = messageOf(e)
      if (DIED_DURING.test(message)) {
        restart(instance, what)
        throw new BundlerDied(`the bundler (esbuild) crashed while building ${what}; it was restarted`)
      }
      if (DEAD_BEFORE.test(message) && attempt === 0) {
        restart(instance, "an earlier build")
        continue
      }
      throw e
    }
  }
}

export interface BundlerHealth {
  readonly up: boolean
  /** Deaths and restarts so far, for the health report; null while it never died. */
  readonly detail: string | null
}

export const bundlerHealth = (): BundlerHealth => ({
  up: restartFailure === undefined,
  detail:
    lastDeath === undefined
      ? null
      : `died ${deaths} time${deaths === 1 ? "" : "s"}, last at ${lastDeath.at.toISOString()} while building ${lastDeath.during}; ${
          restartFailure === undefined ? "restarted" : `could not be restarted: ${restartFailure}`
        }`
})

/** The bundler's line in the service's /health report. */
export const bundlerComponent: Effect.Effect<HealthComponent> = Effect.sync(() => {
  const { up, detail } = bundlerHealth()
  return { name: "bundler", status: up ? "up" : "down", detail }
})
