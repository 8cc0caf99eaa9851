/**
 * Runs the fake Kraken on its own: `npm run fake:kraken -- --port 8090 [--seed 42] [--speed 60]`.
 * `--speed` runs the fake's clock that many times faster than real time, from now. Load options
 * (bench/live.bench.ts): `--pairs N` generated pairs, `--update-ms` push period, `--batch` all
 * pairs' entries per tick in frames of up to 200 entries, `--stamp` send times in forming bars' `trades`.
 * The private API has one account, 100,000 USD and 1 BTC, whose key and secret are printed.
 */
import { parseArgs } from "node:util"
import { startFakeKraken } from "./server"

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    seed: { type: "string", default: "42" },
    speed: { type: "string", default: "1" },
    "page-rows": { type: "string", default: "720" },
    pairs: { type: "string", default: "0" },
    "update-ms": { type: "string", default: "1000" },
    batch: { type: "boolean", default: false },
    stamp: { type: "boolean", default: false }
  }
})

const number = (name: string, raw: string | undefined): number => {
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name} must be a non-negative number, got ${raw}\n`)
    process.exit(2)
  }
  return n
}

const speed = number("speed", values.speed)
const start = Date.now()
const fake = await startFakeKraken({
  port: number("port", values.port),
  seed: number("seed", values.seed),
  pageRows: number("page-rows", values["page-rows"]),
  syntheticPairs: number("pairs", values.pairs),
  updateEveryMs: number("update-ms", values["update-ms"]),
  batchUpdates: values.batch,
  stampSentAt: values.stamp,
  now: speed === 1 ? Date.now : () => start + (Date.now() - start) * speed
})
const account = fake.exchange.addAccount({ key: "fake-kraken-key", balances: { ZUSD: 100_000, XXBT: 1 } })

process.stdout.write(
  [
    "fake Kraken listening",
    `  REST  ${fake.restUrl}/0/public/AssetPairs`,
    `  REST  ${fake.restUrl}/0/public/OHLC?pair=XBTUSD&interval=1`,
    `  WS v2 ${fake.wsUrl}`,
    `  provider settings: {"restUrl":"${fake.restUrl}","wsUrl":"${fake.wsUrl}"}`,
    `  broker settings:   {"restUrl":"${fake.restUrl}","apiKey":"${account.key}","apiSecret":"${account.secret}"}`,
    ""
  ].join("\n")
)

const stop = () => {
  fake.close().then(() => process.exit(0))
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)
