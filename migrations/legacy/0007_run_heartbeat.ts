/**
 * A running collection run beats (`heartbeat_at`) while it works. A run whose process died stops
 * beating, so the next DataHub to start (or the periodic housekeeping of any other) closes it as
 * `interrupted` within minutes, without waiting for a run timeout and without touching the runs
 * another live DataHub is doing.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  "ALTER TABLE collection_runs ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz",
  `CREATE INDEX IF NOT EXISTS collection_runs_running_idx
     ON collection_runs (heartbeat_at) WHERE status = 'running'`
]

export const runHeartbeat: Migration = {
  id: 7,
  name: "run_heartbeat",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
