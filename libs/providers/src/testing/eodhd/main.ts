/**
 * Runs the fake EODHD API: `npm run fake:eodhd -- [--port N] [--seed S] [--token T ...]`.
 * Besides `demo` (demo symbols only), it accepts `fake-token` and every `--token` given.
 */
import { parseArgs } from "node:util"
import { startFakeEodhd } from "./server"

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    seed: { type: "string", default: "1" },
    token: { type: "string", multiple: true, default: [] }
  }
})

const port = Number(values.port)
const seed = Number(values.seed)
if (!Number.isInteger(port) || port < 0 || port > 65_535 || !Number.isFinite(seed)) {
  process.stderr.write("usage: fake:eodhd -- [--port N] [--seed S] [--token T ...]\n")
  process.exit(2)
}

const tokens = ["fake-token", ...(values.token ?? [])]
const fake = await startFakeEodhd({ port, seed, validTokens: tokens })
const base = fake.baseUrl
const day = new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10)
const lines = [
  `fake EODHD listening on ${base}/  (tokens: demo [demo symbols only], ${tokens.join(", ")})`,
  `  ${base}/eod/AAPL.US?api_token=demo&fmt=json&from=${day}`,
  `  ${base}/intraday/BTC-USD.CC?api_token=demo&fmt=json&interval=1h`,
  `  ${base}/exchange-symbol-list/US?api_token=fake-token&fmt=json   (also CC, FOREX)`,
  `  ${base}/exchanges-list?api_token=fake-token&fmt=json`,
  "  (without fmt=json the answer is CSV, as EODHD's default)"
]
process.stdout.write(`${lines.join("\n")}\n`)

const stop = () => {
  fake.close().finally(() => process.exit(0))
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
