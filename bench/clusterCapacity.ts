/**
 * The capacity model the `cluster` benchmark prints, from its own figures, for symbols that each
 * update at a given rate (the live benchmark's, and once a second).
 *
 * - Measured: the committed updates/s of one runner on this machine (sharing its cores with
 *   PostgreSQL, the fakes and the clients), divided by the per-symbol rate. If the runner kept up,
 *   this is a lower bound (it took all that was offered).
 * - Per core: DataHub's work on a live update runs on one event loop, so a runner is bounded by
 *   one core for its DataHub process (its sandboxes run in processes of their own). The measured
 *   updates/s per DataHub CPU-second is what one runner would take with a core to itself.
 * - The database: the runners share one PostgreSQL, which takes no more rows/s than raw `COPY`
 *   into it. More runners do not raise that; it is the ceiling of the whole cluster.
 */
import type { ThroughputFigures } from "./clusterThroughput"

export interface CapacityModel {
  readonly perSymbolPerSec: number
  readonly measuredSymbolsPerRunner: number
  readonly perCoreSymbolsPerRunner: number
  readonly runnersFor: ReadonlyArray<{ readonly symbols: number; readonly runners: number }>
  /** Symbols the shared database takes at the per-symbol rate (COPY's rows/s). */
  readonly databaseSymbols: number
}

export const TARGET_SYMBOLS = [20_000, 100_000] as const

/** The model for symbols updating `perSymbolPerSec` times a second, from one runner's figures. */
export const capacityModel = (
  one: ThroughputFigures,
  perSymbolPerSec: number,
  copyRowsPerSec: number
): CapacityModel => {
  const datahubCores = Math.max(0.01, (one.perRunner[0]?.cpu ?? 100) / 100)
  const perCoreSymbolsPerRunner = Math.floor(one.committedPerSec / datahubCores / perSymbolPerSec)
  return {
    perSymbolPerSec,
    measuredSymbolsPerRunner: Math.floor(one.committedPerSec / perSymbolPerSec),
    perCoreSymbolsPerRunner,
    runnersFor: TARGET_SYMBOLS.map((symbols) => ({
      symbols,
      runners: Math.ceil(symbols / Math.max(1, perCoreSymbolsPerRunner))
    })),
    databaseSymbols: Math.floor(copyRowsPerSec / perSymbolPerSec)
  }
}

const thousands = (n: number) => n.toLocaleString("en")

export const describeCapacity = (m: CapacityModel, one: ThroughputFigures) =>
  `  at ${m.perSymbolPerSec.toFixed(1)} updates/s per symbol: ${thousands(m.measuredSymbolsPerRunner)} symbols per runner measured here${one.keptUp ? " (it took all offered: a lower bound)" : ""}, ` +
  `≈ ${thousands(m.perCoreSymbolsPerRunner)} with a core for its DataHub process (${one.perRunner[0]?.cpu ?? "?"} % used here); ` +
  `runners: ${m.runnersFor
    .map(
      (r) =>
        `${thousands(r.runners)} for ${thousands(r.symbols)}${r.symbols > m.databaseSymbols ? ` (but ${(r.symbols / m.databaseSymbols).toFixed(1)}× the database's ceiling)` : ""}`
    )
    .join(", ")}; ` +
  `the shared PostgreSQL's ceiling (COPY) is ${thousands(m.databaseSymbols)} symbols\n`
