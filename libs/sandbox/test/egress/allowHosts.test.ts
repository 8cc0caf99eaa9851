import { ConfigProvider, Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { parseAllowHosts, SandboxAllowHosts } from "../../src/node/egress/allowHosts"

describe("QUASAR_SANDBOX_ALLOW_HOSTS", () => {
  it("reads hosts, host:port, IPv6 in brackets; normalises case and IPv6", () => {
    expect(parseAllowHosts(" api.example.com, 127.0.0.1:9000,[::1]:8080 ,[0:0::1],FAKE.Test,, ")).toEqual(
      Either.right([
        { host: "api.example.com" },
        { host: "127.0.0.1", port: 9000 },
        { host: "::1", port: 8080 },
        { host: "::1" },
        { host: "fake.test" }
      ])
    )
    expect(parseAllowHosts("")).toEqual(Either.right([]))
  })

  it.each([
    ["http://api.example.com", "is not a host name"],
    ["api.example.com/path", "is not a host name"],
    ["host:0", "outside 1-65535"],
    ["host:65536", "outside 1-65535"],
    ["::1", "is not a host name"],
    ["[nothost]:80", "is not a host name"],
    ["a b", "is not a host name"]
  ])("refuses %s", (text, problem) => {
    const parsed = parseAllowHosts(text)
    expect(Either.isLeft(parsed) && parsed.left).toContain(problem)
  })

  it("a bad value fails the config naming the variable and the entry", async () => {
    const read = (value: string) =>
      Effect.runPromise(
        Effect.either(SandboxAllowHosts.config).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["QUASAR_SANDBOX_ALLOW_HOSTS", value]])))
        )
      )
    const bad = await read("ok.test,bad host")
    expect(Either.isLeft(bad) && String(bad.left)).toMatch(/QUASAR_SANDBOX_ALLOW_HOSTS.*"bad host"/)
    expect(await read("ok.test:81")).toEqual(Either.right([{ host: "ok.test", port: 81 }]))
  })
})
