/**
 * A provider missing a setting is reported once, at warn, naming what to set; again only when
 * its problems change or come back after a fix. Every loop's own line stays below warn.
 */
import { expect, it } from "@effect/vitest"
import { ProviderFatalError, ProviderRetryableError } from "@quasar/domain"
import { Effect, Logger, LogLevel } from "effect"
import { isSettingsRefusal, makeSettingsNotices, SETTINGS_REFUSAL } from "../../src/sandbox/settingsNotices"

const captured = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const lines: Array<{ level: string; message: string }> = []
    const logger = Logger.make(({ logLevel, message }) => {
      lines.push({ level: logLevel.label, message: String(Array.isArray(message) ? message[0] : message) })
    })
    yield* effect.pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.Debug)
    )
    return lines
  })

const apiKey = [{ setting: "apiKey", message: "is required" }]
const both = [...apiKey, { setting: "region", message: "must be one of eu, us" }]

it.effect("says a provider's missing settings once per provider, at warn, until they change", () =>
  Effect.gen(function* () {
    const notices = makeSettingsNotices()
    const lines = yield* captured(
      Effect.gen(function* () {
        // Many loops, many calls: one line per provider.
        for (let i = 0; i < 20; i++) {
          yield* notices.problems("alpha", apiKey)
          yield* notices.problems("beta", apiKey)
        }
        // Different problems are news.
        yield* notices.problems("alpha", both)
        yield* notices.problems("alpha", both)
        // Fixed, then broken again: news again.
        yield* notices.resolved("alpha")
        yield* notices.problems("alpha", both)
        // Resolving one provider does not silence nor repeat the other.
        yield* notices.problems("beta", apiKey)
      })
    )
    expect(lines).toEqual([
      {
        level: "WARN",
        message: `provider "alpha" cannot run until its settings are fixed: set apiKey in the Registry`
      },
      {
        level: "WARN",
        message: `provider "beta" cannot run until its settings are fixed: set apiKey in the Registry`
      },
      {
        level: "WARN",
        message: `provider "alpha" cannot run until its settings are fixed: set apiKey, region in the Registry`
      },
      {
        level: "WARN",
        message: `provider "alpha" cannot run until its settings are fixed: set apiKey, region in the Registry`
      }
    ])
  })
)

it("tells a settings refusal from every other provider error", () => {
  const settings = `${SETTINGS_REFUSAL}apiKey is required; fix them in the Registry`
  expect(isSettingsRefusal(new ProviderFatalError({ provider: "p", message: settings }))).toBe(true)
  // Wrapped by the live connection's refusal text, still recognised.
  expect(
    isSettingsRefusal(
      new ProviderFatalError({ provider: "p", message: `the live connection was refused: ${settings}` })
    )
  ).toBe(true)
  expect(isSettingsRefusal(new ProviderFatalError({ provider: "p", message: "unknown symbol XYZ" }))).toBe(
    false
  )
  // A retryable error is never a settings refusal, whatever it says.
  expect(isSettingsRefusal(new ProviderRetryableError({ provider: "p", message: settings }))).toBe(false)
})
