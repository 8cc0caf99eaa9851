/** Reading the cluster configuration: the runner address forms, the defaults, what is refused. */
import { hostname } from "node:os"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Option } from "effect"
import { clusterConfig, parseRunnerAddress } from "../../src/cluster/ClusterConfig"

const read = (env: Record<string, string>) =>
  Effect.either(clusterConfig).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
  )

describe("cluster configuration", () => {
  it("parses host:port, a host alone (default port) and `hostname` (this machine); refuses the rest", () => {
    expect(parseRunnerAddress("10.0.0.5:4000")).toEqual(Option.some({ host: "10.0.0.5", port: 4000 }))
    expect(parseRunnerAddress("datahub-2")).toEqual(Option.some({ host: "datahub-2", port: 34431 }))
    expect(parseRunnerAddress("hostname:34431")).toEqual(Option.some({ host: hostname(), port: 34431 }))
    for (const bad of ["", "a:b", "a:0", "a:70000", "a b:1", "a:1:2"])
      expect(Option.isNone(parseRunnerAddress(bad))).toBe(true)
  })

  it.effect("without an address DataHub is the single runner; with one, a cluster runner named by it", () =>
    Effect.gen(function* () {
      const alone = yield* read({})
      expect(Either.getOrThrow(alone)).toMatchObject({ runner: "single", address: Option.none() })
      const member = Either.getOrThrow(
        yield* read({ QUASAR_CLUSTER_RUNNER_ADDRESS: "dh-1:5000", QUASAR_CLUSTER_LOCK_EXPIRY_SECONDS: "9" })
      )
      expect(member.runner).toBe("dh-1:5000")
      expect(Duration.toSeconds(member.lockExpiry)).toBe(9)
      expect(Either.isLeft(yield* read({ QUASAR_CLUSTER_RUNNER_ADDRESS: "dh-1:x" }))).toBe(true)
      expect(Either.isLeft(yield* read({ QUASAR_CLUSTER_LOCK_EXPIRY_SECONDS: "2" }))).toBe(true)
    })
  )
})
