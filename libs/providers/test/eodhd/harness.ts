/** Shared set-up for the EODHD tests: fixtures, a fixed clock, a provider context on a fake. */
import { readFileSync } from "node:fs"
import eodhd from "../../src/eodhd"
import type { HistoryPage, HistoryRequest, ProviderContext } from "../../src/sdk"
import { testContext } from "../../src/testing/testContext"

export const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/eodhd/${name}`, import.meta.url), "utf8")

export const DAY = 86_400_000
/** Wednesday 2025-06-11 15:07:30 UTC: a US trading day, mid-session. */
export const NOW = Date.UTC(2025, 5, 11, 15, 7, 30)
export const TOKEN = "test-token"

export type Settings = (typeof eodhd)["settings"]

export const context = (
  baseUrl: string,
  now: () => number,
  overrides: { apiToken?: string; exchanges?: string } = {}
) =>
  testContext<Settings>(
    { apiToken: overrides.apiToken ?? TOKEN, baseUrl, exchanges: overrides.exchanges ?? "US" },
    { now }
  )

export const pages = async (
  ctx: ProviderContext<Settings>,
  request: HistoryRequest
): Promise<Array<HistoryPage>> => {
  const out: Array<HistoryPage> = []
  for await (const page of eodhd.history(ctx, request)) out.push(page)
  return out
}

export const bars = async (ctx: ProviderContext<Settings>, request: HistoryRequest) =>
  (await pages(ctx, request)).flatMap((p) => p.bars)

/** The error a promise rejects with (fails the test if it resolves). */
export const rejection = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise
  } catch (error) {
    if (error instanceof Error) return error
    throw new Error(`rejected with a non-Error: ${String(error)}`)
  }
  throw new Error("expected a rejection, got a result")
}
