/**
 * Registry and DataHub (and Trader, when asked) as their own processes (`apps/<svc>/src/main.ts`,
 * as `npm start` runs them) on random loopback ports, sharing a fresh database on the test PostgreSQL (see
 * test/globalSetup.ts). Registry registers the built-in providers, synthetic included.
 */
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Exit, Scope } from "effect"
import { freePort, type Spawned, servicePair, spawnTsx, waitFor200, within } from "../../support/processes"

export interface Services {
  readonly registryPort: number
  readonly datahubPort: number
  /** 0 when Trader was not asked for. */
  readonly traderPort: number
  readonly registryUrl: string
  readonly datahubUrl: string
  readonly adminToken: string
  /** What the services send each other on their `/internal/` routes. */
  readonly serviceToken: string
  readonly logs: () => string
  readonly stop: () => Promise<void>
}

const stopGracefully = async (service: Spawned) => {
  if (service.child.exitCode !== null) return
  service.child.kill("SIGTERM")
  await within(15_000, "service stop", service.exited).catch(() => {
    service.child.kill("SIGKILL")
    return service.exited
  })
}

export const startServices = async (
  dataDir: string,
  options: { readonly trader?: boolean } = {}
): Promise<Services> => {
  const scope = Effect.runSync(Scope.make())
  // A uniquely named database, dropped when the scope closes (in-memory PGlite when no server).
  const databaseUrl = await Effect.runPromise(Scope.extend(TestDatabase.fresh, scope))
  const pair = await servicePair(databaseUrl, dataDir)
  const { registryPort, datahubPort, registryUrl, datahubUrl, adminToken, serviceToken } = pair
  const env = {
    ...pair.env,
    // The fake Kraken and EODHD listen on loopback ports picked at start; the database's and the
    // services' own ports stay closed to sandboxed code all the same.
    QUASAR_SANDBOX_ALLOW_HOSTS: "127.0.0.1"
  }
  const traderPort = options.trader ? await freePort() : 0
  const datahub = spawnTsx("apps/datahub/src/main.ts", env)
  const registry = spawnTsx("apps/registry/src/main.ts", { ...env, ...pair.registryEnv })
  const trader = options.trader
    ? spawnTsx("apps/trader/src/main.ts", { ...env, TRADER_PORT: String(traderPort) })
    : undefined
  const named = [
    ["registry", registry],
    ["datahub", datahub],
    ...(trader ? [["trader", trader] as const] : [])
  ] as const
  const logs = () =>
    named.map(([name, s]) => `--- ${name}\n${`${s.stdout()}${s.stderr()}`.slice(-2_500)}`).join("\n")
  const stop = async () => {
    await Promise.all(named.map(([, s]) => stopGracefully(s)))
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
  try {
    await Promise.all([
      waitFor200(`${registryUrl}/health`, 90_000, registry),
      waitFor200(`${datahubUrl}/health`, 90_000, datahub),
      ...(trader ? [waitFor200(`http://127.0.0.1:${traderPort}/health`, 90_000, trader)] : [])
    ])
  } catch (e) {
    await stop()
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${logs()}`)
  }
  return {
    registryPort,
    datahubPort,
    traderPort,
    registryUrl,
    datahubUrl,
    adminToken,
    serviceToken,
    logs,
    stop
  }
}
