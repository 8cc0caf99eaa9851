/**
 * A plain `ProviderContext` for tests that call a provider directly (no host, no rate limit):
 * global fetch, a `ws` connector, a logger that records what it is told, and a clock the test
 * controls (share it with the fake server so "now" agrees on both sides).
 */
import { connectWebSocket } from "../host/node/connectWebSocket"
import type { ProviderContext, SettingsSpec, SettingsValues } from "../sdk/types"

export interface LogRecord {
  readonly level: "debug" | "info" | "warn" | "error"
  readonly message: string
  readonly fields: Readonly<Record<string, unknown>> | undefined
}

export const testContext = <S extends SettingsSpec>(
  settings: SettingsValues<S>,
  options: { readonly now?: () => number; readonly signal?: AbortSignal } = {}
): ProviderContext<S> & { readonly logs: Array<LogRecord> } => {
  const logs: Array<LogRecord> = []
  const record =
    (level: LogRecord["level"]) =>
    (message: string, fields?: Readonly<Record<string, unknown>>): void => {
      logs.push({ level, message, fields })
    }
  const signal = options.signal ?? new AbortController().signal
  return {
    settings,
    fetch: (input, init) => fetch(input, { ...init, signal: init?.signal ?? signal }),
    connect: (url) => connectWebSocket(url, signal),
    log: { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") },
    signal,
    now: options.now ?? Date.now,
    logs
  }
}
