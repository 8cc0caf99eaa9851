/**
 * What the private-API tests share: a fake Kraken on a clock the test moves, one funded account
 * per test (a fresh API key, so nonces never collide), the broker's context for it, and a raw
 * signed POST for checking the fake on the wire.
 */
import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, beforeEach } from "vitest"
import type { krakenBroker } from "../../src/kraken/broker"
import { signRequest } from "../../src/kraken/private/sign"
import type { SettingsValues } from "../../src/sdk"
import type { FakeKraken } from "../../src/testing/kraken/server"
import { startFakeKraken } from "../../src/testing/kraken/server"
import { testContext } from "../../src/testing/testContext"

/** 25 s into a minute. */
export const T0 = Date.UTC(2024, 0, 15, 12, 0) + 25_000
export const MINUTE = 60_000

export interface Clock {
  readonly now: () => number
  advance(ms: number): void
}

export const manualClock = (start = T0): Clock => {
  let t = start
  return {
    now: () => t,
    advance: (ms) => {
      t += ms
    }
  }
}

export type BrokerSettings = typeof krakenBroker.settings

export const startFake = async (clock: Clock): Promise<FakeKraken> =>
  startFakeKraken({ now: clock.now, updateEveryMs: 60_000, heartbeatEveryMs: 60_000 })

export interface Account {
  readonly key: string
  readonly secret: string
}

export const openAccount = (
  fake: FakeKraken,
  balances: Readonly<Record<string, number>> = { ZUSD: 100_000, XXBT: 1 }
): Account => fake.exchange.addAccount({ key: `test-${randomUUID()}`, balances })

export const brokerContext = (
  fake: FakeKraken,
  clock: Clock,
  account: Account,
  overrides: Partial<SettingsValues<BrokerSettings>> = {},
  signal?: AbortSignal
) =>
  testContext<BrokerSettings>(
    {
      restUrl: fake.restUrl,
      apiKey: account.key,
      apiSecret: account.secret,
      cashAsset: "USD",
      requestTimeoutMs: 2_000,
      orderDeadlineMs: 15_000,
      pollIntervalMs: 20,
      ...overrides
    },
    { now: clock.now, ...(signal === undefined ? {} : { signal }) }
  )

/** A signed private POST as a client would send it; `sign` overrides the API-Sign header. */
export const rawPost = async (
  fake: FakeKraken,
  method: string,
  options: {
    readonly key: string
    readonly secret: string
    readonly nonce: number | string
    readonly params?: Readonly<Record<string, string>>
    readonly sign?: string
    /** Sent instead of the signed body (tampering). */
    readonly body?: string
  }
): Promise<{ readonly status: number; readonly error: ReadonlyArray<string>; readonly result: unknown }> => {
  const body = new URLSearchParams({ nonce: String(options.nonce), ...options.params }).toString()
  const path = `/0/private/${method}`
  const sign = options.sign ?? (await signRequest(path, String(options.nonce), body, options.secret))
  const res = await fetch(`${fake.restUrl}${path}`, {
    method: "POST",
    headers: {
      "API-Key": options.key,
      "API-Sign": sign,
      "Content-Type": "application/x-www-form-urlencoded"
    },
    body: options.body ?? body
  })
  const json = (await res.json()) as { error: Array<string>; result?: unknown }
  return { status: res.status, error: json.error, result: json.result }
}

/** Nonces for raw requests: increasing within a test. */
export const nonces = (start = 1_000) => {
  let n = start
  return () => ++n
}

/** Waits until `condition` holds (checked every 5 ms, for at most `ms`). */
export const until = async (condition: () => boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * One fake Kraken for a test file on a clock the tests move, and a freshly funded account for
 * each test (its first API key), with the broker's context and the account's state at hand.
 */
export const useFakeKraken = () => {
  const clock = manualClock()
  let fake: FakeKraken | undefined
  let account: Account | undefined
  const env = {
    clock,
    get fake(): FakeKraken {
      if (fake === undefined) throw new Error("the fake Kraken starts in beforeAll")
      return fake
    },
    get account(): Account {
      if (account === undefined) throw new Error("the account is opened in beforeEach")
      return account
    },
    /** The broker's context for the account, settings overridden as given. */
    ctx: (overrides?: Partial<SettingsValues<BrokerSettings>>, signal?: AbortSignal) =>
      brokerContext(env.fake, clock, env.account, overrides, signal),
    /** The account as the fake sees it now. */
    state: () => env.fake.exchange.account(env.account.key)
  }
  beforeAll(async () => {
    fake = await startFake(clock)
  })
  afterAll(() => env.fake.close())
  beforeEach(async () => {
    await env.fake.exchange.settled()
    env.fake.reset()
    account = openAccount(env.fake)
  })
  return env
}
