/** Small inline providers and contexts for the host tests. */
import { Either } from "effect"
import { makeProviderContext } from "../../src/host/context"
import { defineProvider } from "../../src/sdk/defineProvider"
import type { Logger, Provider, ProviderBar, ProviderContext, ProviderDefinition } from "../../src/sdk/types"

export const MINUTE = 60_000
/** A fixed "now" on a minute boundary, so the bar opening at NOW - MINUTE has just closed. */
export const NOW = Date.UTC(2024, 0, 10, 12, 0)

export const bar = (ts: number, overrides: Partial<Record<keyof ProviderBar, number>> = {}): ProviderBar => ({
  ts,
  open: 10,
  high: 12,
  low: 9,
  close: 11,
  volume: 5,
  ...overrides
})

export const quietLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

export const fakeProvider = (overrides: Partial<ProviderDefinition> = {}): Provider =>
  defineProvider({
    name: "fake",
    displayName: "Fake",
    version: "0.0.0",
    timeframes: ["1m"],
    settings: {},
    listAssets: async () => [],
    history: async function* () {},
    ...overrides
  })

export const contextFor = (
  provider: Provider,
  options: { readonly signal?: AbortSignal; readonly fetch?: typeof fetch; readonly now?: () => number } = {}
): ProviderContext =>
  Either.getOrThrow(
    makeProviderContext({
      provider,
      settings: {},
      fetch: options.fetch,
      connect: () => Promise.reject(new Error("no sockets in this test")),
      logger: quietLogger,
      now: options.now ?? (() => NOW),
      signal: options.signal ?? new AbortController().signal
    })
  )
