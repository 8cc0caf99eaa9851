/**
 * DataHub as a cluster of runners: each collection run records the runner that made it, and
 * `provider_owners` which runner owns each provider now (written by the owner as it takes the
 * provider over, removed as it lets go), so any runner can say who collects what. The cluster's
 * own tables (`datahub.cluster_*`) are created by @effect/cluster's storage itself, not here.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  "ALTER TABLE datahub.collection_runs ADD COLUMN IF NOT EXISTS runner text",
  `CREATE TABLE IF NOT EXISTS datahub.provider_owners (
     provider text PRIMARY KEY,
     runner text NOT NULL,
     since timestamptz NOT NULL DEFAULT now())`
]

export const cluster: Migration = {
  id: 4,
  name: "cluster",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
