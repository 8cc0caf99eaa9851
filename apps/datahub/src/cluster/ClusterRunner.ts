/**
 * The @effect/cluster runner this DataHub is: `Sharding` built one of two ways, the rest of
 * DataHub sees no difference.
 *
 * - Single runner (no `QUASAR_CLUSTER_RUNNER_ADDRESS`, or the embedded database): shard storage in
 *   memory, no message storage, no socket. Every shard is this runner's at once, so `npm start`
 *   and the in-process tests need no set-up and wait for nothing.
 * - Cluster runner: `SqlRunnerStorage` (runners, heartbeats, a lock row per shard) and
 *   `SqlMessageStorage` on the service's database, and the runner socket other runners reach.
 *   Both storages name their tables without a schema (`cluster_runners`, `cluster_messages`, …);
 *   a prefix of `datahub.cluster` would qualify the tables but not the index names the message
 *   storage creates (PostgreSQL refuses a schema there), so they get a small pool of their own
 *   whose `search_path` is `datahub`: the tables land in `datahub.cluster_*`.
 *
 * A shard belongs to a runner while it refreshes the shard's row in `cluster_locks` within
 * `lockExpiry`; after a `kill -9` the shards move once the rows are older than that (+ ≤ 1 s until
 * the others look again). Rows, not PostgreSQL advisory locks: an advisory lock lives as long as
 * its session, and the server keeps the session of a runner that froze or was cut off by the
 * network (no FIN reaches it) for as long as TCP takes to notice, hours by default, so its shards
 * would never move. A runner that cannot refresh its rows stops its singletons (the cluster marks
 * its lock storage unhealthy) before the rows expire for the others.
 */
import * as MessageStorage from "@effect/cluster/MessageStorage"
import { RunnerAddress } from "@effect/cluster/RunnerAddress"
import * as RunnerHealth from "@effect/cluster/RunnerHealth"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Runners from "@effect/cluster/Runners"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SocketRunner from "@effect/cluster/SocketRunner"
import * as SqlMessageStorage from "@effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import { NodeClusterSocket } from "@effect/platform-node"
import * as RpcSerialization from "@effect/rpc/RpcSerialization"
import { DATAHUB_SCHEMA } from "@quasar/migrations/datahub"
import { Database } from "@quasar/server"
import { Duration, Layer, Option } from "effect"
import type { ClusterConfigValues, RunnerAddressValue } from "./ClusterConfig"

/** How often a runner looks for runners that joined or left (one small query each time). */
const REFRESH_ASSIGNMENTS = Duration.seconds(1)
/** The cluster pool: one connection held for the shard locks, the rest for storage polls. */
const CLUSTER_POOL_SIZE = 4

const singleRunnerLayer = Sharding.layer.pipe(
  Layer.provide(Runners.layerNoop),
  Layer.provide([MessageStorage.layerNoop, RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
  Layer.provide(
    ShardingConfig.layer({
      runnerAddress: Option.some(RunnerAddress.make({ host: "localhost", port: 0 })),
      refreshAssignmentsInterval: REFRESH_ASSIGNMENTS
    })
  )
)

const socketRunner = SocketRunner.layer.pipe(
  Layer.provide([NodeClusterSocket.layerSocketServer, NodeClusterSocket.layerClientProtocol])
)

const quietRunner = Sharding.layer.pipe(Layer.provideMerge(Runners.layerNoop))

const clusterRunnerLayer = (address: RunnerAddressValue, config: ClusterConfigValues) =>
  (config.socket ? socketRunner : quietRunner).pipe(
    // Liveness is the heartbeat in the database: a runner that stops refreshing it is gone.
    Layer.provide(RunnerHealth.layerNoop),
    Layer.provideMerge(Layer.orDie(SqlMessageStorage.layer)),
    Layer.provide(Layer.orDie(SqlRunnerStorage.layer)),
    Layer.provide(
      Database.layer({
        poolSize: CLUSTER_POOL_SIZE,
        applicationName: "quasar-datahub-cluster",
        searchPath: DATAHUB_SCHEMA
      })
    ),
    Layer.provide(
      ShardingConfig.layer({
        runnerAddress: Option.some(RunnerAddress.make(address)),
        runnerListenAddress: Option.map(config.listenHost, (host) =>
          RunnerAddress.make({ host, port: address.port })
        ),
        shardLockExpiration: config.lockExpiry,
        shardLockDisableAdvisory: true,
        shardLockRefreshInterval: Duration.unsafeDivide(config.lockExpiry, 3),
        refreshAssignmentsInterval: REFRESH_ASSIGNMENTS
      })
    ),
    Layer.provide(RpcSerialization.layerMsgPack)
  )

/** The runner for `config`; on the embedded database always the single one (one process per data directory). */
export const shardingLayer = (config: ClusterConfigValues, embedded: boolean) =>
  Option.match(embedded ? Option.none() : config.address, {
    onNone: () => singleRunnerLayer,
    onSome: (address) => clusterRunnerLayer(address, config)
  })
