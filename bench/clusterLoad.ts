/**
 * The live load of the `cluster` benchmark's throughput part: two Kraken providers, so that the
 * cluster's shard key (the provider) can give two runners work. `kraken` is the built-in one;
 * `krakenb` is the same code uploaded again under that name (its module renamed). Each is pointed
 * at a fake Kraken process of its own (bench/fakeKrakenProcess.ts) serving half the pairs, and
 * both fakes push every pair's forming bar at the same period, so the offered load is the live
 * benchmark's, split in two.
 */
import type Pg from "pg"
import type WebSocket from "ws"
import { type FakeKrakenProcess, startFakeKrakenProcess } from "./fakeKrakenProcess"
import { configureProvider, type Sink, watch } from "./liveClients"
import { ADMIN_TOKEN } from "./services"

export const PROVIDERS = ["kraken", "krakenb"] as const
export type LoadProvider = (typeof PROVIDERS)[number]

const PER_CLIENT = 1_000
const SETTINGS_SETTLE_MS = 3_000

export const symbolOf = (i: number) => `S${String(i + 1).padStart(4, "0")}/USD`

const registryCall = async (registryUrl: string, path: string, init: RequestInit = {}) => {
  const res = await fetch(`${registryUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" }
  })
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${await res.text()}`)
  return res
}

/** Uploads the active code of `from` again as `to` (the module's name changed to match) and activates it. */
const uploadCopy = async (registryUrl: string, from: string, to: string) => {
  const versions = (await (await registryCall(registryUrl, `/code/${from}`)).json()) as Array<{
    readonly version: number
    readonly status: string
  }>
  const active = versions.find((v) => v.status === "active")
  if (active === undefined) throw new Error(`${from} has no active version`)
  const source = await (
    await registryCall(registryUrl, `/code/${from}/versions/${active.version}/source`)
  ).text()
  const renamed = source.replace(`name: "${from}"`, `name: "${to}"`)
  if (renamed === source) throw new Error(`no name: "${from}" in ${from}'s module`)
  const uploaded = (await (
    await registryCall(registryUrl, `/code/${to}`, {
      method: "POST",
      body: JSON.stringify({ kind: "provider", language: "javascript", source: renamed })
    })
  ).json()) as { readonly version: { readonly version: number; readonly status: string } }
  if (uploaded.version.status !== "valid") throw new Error(`${to}: uploaded ${uploaded.version.status}`)
  await registryCall(registryUrl, `/code/${to}/versions/${uploaded.version.version}/activate`, {
    method: "POST"
  })
}

export interface Load {
  readonly fakes: Record<LoadProvider, FakeKrakenProcess>
  /** Symbols per provider. */
  readonly symbols: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

/** Starts the two fakes, registers `krakenb`, points both providers at their fakes and subscribes every pair live. */
export const startLoad = async (options: {
  readonly registryUrl: string
  readonly admin: Pg.Client
  /** Pairs in all (half per provider). */
  readonly pairs: number
  readonly updateEveryMs: number
}): Promise<Load> => {
  const perProvider = Math.floor(options.pairs / 2)
  const start = () =>
    startFakeKrakenProcess({ syntheticPairs: perProvider, updateEveryMs: options.updateEveryMs })
  const [a, b] = await Promise.all([start(), start()])
  const fakes = { kraken: a, krakenb: b }
  const close = async () => {
    await Promise.all([a.close(), b.close()])
  }
  try {
    // The built-in is registered (and activated) by the Registry shortly after it starts.
    await configureProvider(options.registryUrl, "kraken", { restUrl: a.restUrl, wsUrl: a.wsUrl })
    await uploadCopy(options.registryUrl, "kraken", "krakenb")
    await configureProvider(options.registryUrl, "krakenb", { restUrl: b.restUrl, wsUrl: b.wsUrl })
    // DataHub restarts a provider's sandboxes when its code or settings change, and a sandbox that
    // ends with a WebSocket open crashes DataHub today (libs/sandbox's egress relay closes it with
    // code 1001, which undici's WebSocket refuses with a throw): the changes arrive before any
    // stream opens.
    await new Promise((r) => setTimeout(r, SETTINGS_SETTLE_MS))
    await options.admin.query(
      `INSERT INTO datahub.provider_subscription (provider, symbol, timeframe, mode)
       SELECT p, 'S' || lpad(i::text, 4, '0') || '/USD', '1m', 'live'
       FROM unnest($1::text[]) AS p, generate_series(1, $2::int) AS i`,
      [PROVIDERS, perProvider]
    )
    // Tells DataHub (ChangeFeed channel `subscriptions`) to re-read its live subscriptions.
    await options.admin.query(
      `INSERT INTO datahub.change_events (channel, payload) VALUES ('subscriptions', '{}'::jsonb)`
    )
  } catch (e) {
    await close()
    throw e
  }
  return { fakes, symbols: Array.from({ length: perProvider }, (_, i) => symbolOf(i)), close }
}

/**
 * `/live` clients (up to 1,000 series each, the per-connection limit) watching every series of
 * `provider` on the runner at `url`: a runner pushes only the series of the providers it owns.
 */
export const watchProvider = async (
  url: string,
  provider: LoadProvider,
  symbols: ReadonlyArray<string>,
  sink: Sink
) => {
  const sockets: Array<WebSocket> = []
  for (let i = 0; i < symbols.length; i += PER_CLIENT)
    sockets.push(await watch(url, symbols.slice(i, i + PER_CLIENT), sink, provider))
  return sockets
}
