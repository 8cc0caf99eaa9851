/**
 * What every runner process of the cluster tests is: production's entry point (`runService`, the
 * cluster configured from the environment) running DataHub with the in-memory catalogue and the
 * bar and live sources (and any collection or live timings) the process gives it.
 */
import { runService } from "@quasar/server/node"
import { Layer } from "effect"
import { appLayer } from "../../src/App"
import { ClusterConfig } from "../../src/cluster/ClusterConfig"
import type { BarSource } from "../../src/collect/BarSource"
import type { LiveSource } from "../../src/live/LiveSource"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"

/** An environment variable the process cannot run without. */
export const required = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`a cluster runner process needs ${name}`)
  return value
}

/** Runs DataHub as a cluster runner with `sources`. */
export const runRunner = (sources: Layer.Layer<BarSource | LiveSource>) =>
  runService({
    name: "datahub",
    portVariable: "DATAHUB_PORT",
    defaultPort: 8081,
    app: () =>
      appLayer({}, "external").pipe(
        Layer.provideMerge(MemoryCatalog.layer),
        Layer.provide(sources),
        Layer.provide(ClusterConfig.fromEnv)
      )
  })
