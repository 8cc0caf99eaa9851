/**
 * The namespaces under the permission model, checked on their own: a plain Node process (no
 * permission flags) started the way DataHub starts sandbox children cannot connect anywhere,
 * not even to a listener on this host's loopback, and cannot see or renice DataHub's process.
 * A killed sandbox leaves no Node process behind, and DataHub watches the memory of the Node
 * process, not of `unshare`.
 */
import { execFile } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { expect, layer } from "@effect/vitest"
import { ProviderName } from "@quasar/domain"
import { detectIsolation, logIsolation, residentBytes, sandboxedPid } from "@quasar/sandbox/node"
import { Effect, Logger, Schedule } from "effect"
import { describe, it } from "vitest"
import { ProviderPool } from "../../src/sandbox/ProviderPool"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { syntheticSource } from "./fixtures/synthetic"
import { client, testApp, validate } from "./support"

const run = (command: string, args: ReadonlyArray<string>) =>
  new Promise<string>((resolve) =>
    execFile(command, [...args], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve(`${stdout}${stderr}${error && !stdout ? error.message : ""}`)
    )
  )

describe("sandbox namespaces", () => {
  it("when unavailable, the start-up log warns and says what is missing and what to do", async () => {
    const lines: Array<{ level: string; message: string }> = []
    const capture = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => {
        lines.push({
          level: logLevel.label,
          message: Array.isArray(message) ? message.join(" ") : String(message)
        })
      })
    )
    await Effect.runPromise(
      logIsolation({
        network: "permission-model-only",
        pid: "shared",
        wrapper: [],
        problem: "unshare failed: EPERM"
      }).pipe(Effect.provide(capture))
    )
    expect(lines).toEqual([
      {
        level: "WARN",
        message: expect.stringMatching(
          /cannot get their own network and PID namespaces \(unshare failed: EPERM\).*permission model alone.*unprivileged_userns_clone/
        )
      }
    ])
  })

  it("are available on this machine (CI runs as root)", async () => {
    const isolation = await Effect.runPromise(detectIsolation)
    expect(isolation).toMatchObject({ network: "namespace", pid: "namespace" })
  })

  it("keep a process without the permission model off the network and away from DataHub's process", async () => {
    const isolation = await Effect.runPromise(detectIsolation)
    const hits: Array<string> = []
    const server = createServer((s) => {
      hits.push("tcp")
      s.destroy()
    })
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
    const port = (server.address() as { port: number }).port
    const script = `
      const net = require("node:net"), os = require("node:os")
      const out = {}
      const attempt = (host) => new Promise((resolve) => {
        const s = net.connect(${port}, host)
        s.on("connect", () => { resolve("reached"); s.destroy() })
        s.on("error", (e) => resolve(e.code))
      })
      const tryCode = (f) => { try { f(); return "reached" } catch (e) { return e.code + " " + e.message } }
      ;(async () => {
        out.loopback = await attempt("127.0.0.1")
        out.private = await attempt("10.0.0.1")
        out.renice = tryCode(() => os.setPriority(${process.pid}, 19))
        out.signal = tryCode(() => process.kill(${process.pid}, 0))
        out.pid = process.pid
        console.log(JSON.stringify(out))
      })()`
    const [command = "", ...args] = [...isolation.wrapper, process.execPath, "-e", script]
    const output = await run(command, args)
    server.close()
    const out = JSON.parse(output.trim().split("\n").at(-1) ?? "{}")
    expect(out.loopback).toMatch(/^(ENETUNREACH|ECONNREFUSED|EHOSTUNREACH)$/)
    expect(out.private).toMatch(/^(ENETUNREACH|EHOSTUNREACH)$/)
    expect(out.renice).toMatch(/ESRCH/)
    expect(out.signal).toMatch(/ESRCH/)
    expect(out.pid).toBe(1)
    expect(hits).toEqual([])
  })
})

layer(testApp, { timeout: 90_000, excludeTestServices: true })("a namespaced sandbox", (it) => {
  it.effect("is watched through its Node process and leaves none behind when killed", () =>
    Effect.gen(function* () {
      const source = syntheticSource
      const { report, manifest } = yield* validate("synthetic", source)
      expect(report.issues).toEqual([])
      const catalog = yield* MemoryCatalog
      yield* catalog.putCode({ name: "synthetic", version: 1, status: "active", manifest, source })
      yield* catalog.putSettings("synthetic", { symbols: "AAA/USD", seed: 7 })
      const api = yield* client
      yield* Effect.orDie(api.sandbox.listAssets({ path: { name: ProviderName.make("synthetic") } }))
      const pool = yield* ProviderPool
      const status = (yield* pool.sandboxes).find((s) => s.name === "synthetic")
      const wrapper = status?.pid ?? 0
      expect(readFileSync(`/proc/${wrapper}/cmdline`, "utf8")).toContain("unshare")
      const node = yield* Effect.promise(() => sandboxedPid(wrapper))
      expect(node).toBeDefined()
      expect(readFileSync(`/proc/${node}/cmdline`, "utf8")).toContain("runner.mjs")
      // The memory watched is Node's (tens of MB), not unshare's (about one).
      expect(yield* Effect.promise(() => residentBytes(node ?? 0))).toBeGreaterThan(20 * 1024 * 1024)

      process.kill(wrapper, "SIGKILL")
      yield* Effect.sync(
        () =>
          existsSync(`/proc/${node}/cmdline`) &&
          readFileSync(`/proc/${node}/cmdline`, "utf8").includes("runner.mjs")
      ).pipe(Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (alive) => !alive, times: 100 }))
      expect(
        existsSync(`/proc/${node}/cmdline`) &&
          readFileSync(`/proc/${node}/cmdline`, "utf8").includes("runner.mjs")
      ).toBe(false)
    })
  )
})
