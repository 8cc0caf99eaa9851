/**
 * Strategies that misbehave, run in the sandbox: a throw fails the run at its bar, a loop or an
 * unbounded allocation gets the child stopped with the limit named, malformed orders are rejected
 * while the run goes on, and nothing reaches the network, files or other processes. They run
 * under the TestClock: the executor's limits keep to the real clock all the same.
 */
import { createServer, type Socket } from "node:net"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { BacktestExecutor } from "../../src/backtest/BacktestExecutor"
import { DAY, flatBars } from "../engine/fixtures"
import { executor, job, runningStrategies, strategySource, TIME_LIMIT_SECONDS } from "./support"

const bars = { "BTC/USD": flatBars([10, 11, 12, 13, 14, 15]) }
const run = (source: string) =>
  Effect.flatMap(BacktestExecutor, (e) => e.run(job(source, bars), () => Effect.void))

layer(executor, { timeout: 90_000 })("strategies in the sandbox", (it) => {
  it.effect("a strategy that throws fails the run at its bar, with its error", () =>
    Effect.gen(function* () {
      const result = yield* run(
        strategySource(`if (ctx.time === 3 * ${DAY}) throw new RangeError("bad bar")`)
      )
      expect(result.status).toBe("failed")
      expect(result.failure).toEqual({ barIndex: 3, ts: 3 * DAY, message: "RangeError: bad bar" })
      expect(result.progress).toEqual({ done: 3, total: 6 })
    })
  )

  it.effect("malformed orders are rejected with their reason, and the run goes on", () =>
    Effect.gen(function* () {
      const result = yield* run(
        strategySource(`if (ctx.time !== 0) return
    ctx.order({ symbol: "BTC/USD", side: "buy", quantity: NaN, type: "market" })
    ctx.order({ symbol: "BTC/USD", side: "buy", quantity: -1, type: "market" })
    ctx.order({ symbol: "ETH/USD", side: "buy", quantity: 1, type: "market" })
    ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1, type: "market" })`)
      )
      expect(result.status).toBe("completed")
      expect(result.orders.map((o) => [o.status, o.reason])).toEqual([
        ["rejected", "quantity must be a finite number above 0 (got NaN)"],
        ["rejected", "quantity must be a finite number above 0 (got -1)"],
        ["rejected", 'symbol "ETH/USD" is not in the universe (BTC/USD)'],
        ["filled", undefined]
      ])
      expect(result.fills).toHaveLength(1)
    })
  )

  it.effect("a strategy that loops forever is stopped at a limit that its message names", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(run(strategySource("for (;;) {}")))
      expect(error.reason).toBe("sandbox")
      // The wall clock ends it, or the CPU budget where no cgroup holds the child to it.
      expect(error.message).toMatch(
        new RegExp(
          `wall-clock limit of ${TIME_LIMIT_SECONDS} s|the budget is \\d+% \\(QUASAR_SANDBOX_CPU_PERCENT\\)`
        )
      )
      expect(runningStrategies()).toEqual([])
    })
  )

  it.effect("a strategy that allocates without bound is stopped at its memory cap", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        run(strategySource("const hoard = []; for (;;) hoard.push(new Array(1e5).fill(Math.random()))"))
      )
      expect(error.reason).toBe("sandbox")
      expect(error.message).toMatch(/ran out of memory \(heap cap 64 MB\)|used more than 256 MB of memory/)
    })
  )

  it.effect("typed arrays outside the heap are stopped at the memory cap too", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        run(strategySource("const hoard = []; for (;;) hoard.push(new Float64Array(4e6).fill(1))"))
      )
      expect(error.reason).toBe("sandbox")
      expect(error.message).toMatch(/memory/)
    })
  )

  it.effect("network, files and processes are out of reach, and nothing connects to the host", () =>
    Effect.gen(function* () {
      const connections: Array<Socket> = []
      const server = createServer((socket) => {
        connections.push(socket)
        socket.destroy()
      })
      const port = yield* Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      })
      const prelude = `const outcomes = {}
const within = (p) => Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), 2000))])
const attempt = async (name, f) => {
  try { await within(Promise.resolve().then(f)); outcomes[name] = "succeeded" }
  catch (e) { outcomes[name] = "failed: " + String(e && e.message) }
}
const url = "http://127.0.0.1:${port}/"
const get = (name) => process.getBuiltinModule(name)
await attempt("fetch", () => fetch(url))
await attempt("net", () => new Promise((resolve, reject) => { const s = get("node:net").connect(${port}, "127.0.0.1"); s.on("connect", resolve); s.on("error", reject) }))
await attempt("http", () => new Promise((resolve, reject) => get("node:http").get(url, resolve).on("error", reject)))
await attempt("WebSocket", () => new Promise((resolve, reject) => { const ws = new WebSocket("ws://127.0.0.1:${port}/"); ws.onopen = resolve; ws.onerror = () => reject(new Error("no connection")) }))
await attempt("child_process", () => get("node:child_process").execFileSync("/bin/true"))
await attempt("process.kill", () => process.kill(process.ppid, 0))
await attempt("fs write", () => get("node:fs").writeFileSync("/tmp/quasar-strategy-was-here", "x"))
await attempt("fs read", () => get("node:fs").readFileSync("/etc/passwd", "utf8"))
await attempt("worker", () => new (get("node:worker_threads").Worker)("1", { eval: true }))
await attempt("environment", () => { if (Object.keys(process.env).length > 0) return; throw new Error("empty") })`
      const result = yield* run(
        strategySource(
          "if (ctx.time === 0) for (const [name, outcome] of Object.entries(outcomes)) ctx.log(name + ': ' + outcome)",
          prelude
        )
      )
      server.close()
      expect(result.status).toBe("completed")
      const outcomes = result.logs.map((l) => l.message)
      expect(outcomes.map((o) => o.slice(0, o.indexOf(":")))).toEqual([
        "fetch",
        "net",
        "http",
        "WebSocket",
        "child_process",
        "process.kill",
        "fs write",
        "fs read",
        "worker",
        "environment"
      ])
      for (const outcome of outcomes) expect(outcome).toMatch(/^[^:]+: failed: /)
      expect(connections).toHaveLength(0)
    })
  )
})
