/**
 * How this DataHub takes part in the cluster. A `Context.Reference`: without a layer it is the
 * single runner (every provider owned here, nothing to set up), which is what `npm start` and the
 * in-process tests run; `ClusterConfig.fromEnv` reads the environment once at start.
 *
 * - `QUASAR_CLUSTER_RUNNER_ADDRESS` (`host:port`, or `hostname:port` for this machine's name):
 *   where the other runners reach this one. Set, DataHub is one runner of a cluster whose state
 *   lives in PostgreSQL (`datahub.cluster_*`); unset, it runs alone.
 * - `QUASAR_CLUSTER_LISTEN_HOST`: the interface the runner socket listens on (default: the
 *   address's host; `0.0.0.0` in a container whose name resolves elsewhere).
 * - `QUASAR_CLUSTER_LOCK_EXPIRY_SECONDS` (default 6): a runner that stopped refreshing its
 *   heartbeat for this long counts as gone and its providers move to the others. The runner
 *   refreshes its heartbeat and shard locks every third of it, and a lock operation that takes
 *   longer than that third counts as a storage failure (the runner lets go of every shard).
 *   Shorter moves sooner after a crash; too short makes a busy runner or database (3 s: 1 s
 *   deadlines, seen to flap on a loaded 2-core machine) shed its providers again and again.
 */
import { hostname } from "node:os"
import { Config, ConfigError, Context, Duration, Either, Layer, Option } from "effect"

export interface RunnerAddressValue {
  readonly host: string
  readonly port: number
}

export interface ClusterConfigValues {
  /** None: the single runner (in-memory shard storage, no socket). */
  readonly address: Option.Option<RunnerAddressValue>
  readonly listenHost: Option.Option<string>
  readonly lockExpiry: Duration.Duration
  /**
   * Whether the runner listens on its socket. DataHub's singletons need only the shared storage;
   * the socket is there for entity messages between runners. Tests that run several runners in
   * one process go without it (their addresses are then only names).
   */
  readonly socket: boolean
  /** This runner's name in `/health`, `collection_runs.runner` and the status answers. */
  readonly runner: string
}

export const SINGLE_RUNNER = "single"

export const DEFAULT_RUNNER_PORT = 34431

export const singleRunner: ClusterConfigValues = {
  address: Option.none(),
  listenHost: Option.none(),
  lockExpiry: Duration.seconds(6),
  socket: true,
  runner: SINGLE_RUNNER
}

/** `host:port` or `host` (default port); `hostname` stands for this machine's name. */
export const parseRunnerAddress = (text: string): Option.Option<RunnerAddressValue> => {
  const match = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(text.trim())
  if (match === null) return Option.none()
  const port = match[2] === undefined ? DEFAULT_RUNNER_PORT : Number(match[2])
  if (port < 1 || port > 65_535) return Option.none()
  const host = match[1] === "hostname" ? hostname() : (match[1] ?? "")
  return Option.some({ host, port })
}

const runnerAddress = Config.string("QUASAR_CLUSTER_RUNNER_ADDRESS").pipe(
  Config.mapOrFail((text) =>
    Option.match(parseRunnerAddress(text), {
      onNone: () => Either.left(ConfigError.InvalidData([], `expected host:port, got "${text}"`)),
      onSome: Either.right
    })
  ),
  Config.option
)

export const clusterConfig: Config.Config<ClusterConfigValues> = Config.all({
  address: runnerAddress,
  listenHost: Config.option(Config.string("QUASAR_CLUSTER_LISTEN_HOST")),
  lockSeconds: Config.integer("QUASAR_CLUSTER_LOCK_EXPIRY_SECONDS").pipe(
    Config.validate({ message: "at least 3 seconds", validation: (n) => n >= 3 }),
    Config.withDefault(6)
  )
}).pipe(
  Config.map(({ address, listenHost, lockSeconds }) => ({
    address,
    listenHost,
    lockExpiry: Duration.seconds(lockSeconds),
    socket: true,
    runner: Option.match(address, { onNone: () => SINGLE_RUNNER, onSome: (a) => `${a.host}:${a.port}` })
  }))
)

export class ClusterConfig extends Context.Reference<ClusterConfig>()(
  "@quasar/datahub/cluster/ClusterConfig",
  {
    defaultValue: () => singleRunner
  }
) {
  static readonly fromEnv = Layer.effect(ClusterConfig, clusterConfig)
}
