/**
 * A runner that lets a provider go marks its `provider_owners` row released instead of deleting
 * it: the next owner reads when the provider was let go and reports how long it had no owner
 * (after a `kill -9` nothing is released, and the old runner's last heartbeat says it instead).
 */
import type { Migration } from "@quasar/server"

export const ownerRelease: Migration = {
  id: 5,
  name: "owner_release",
  up: ({ exec }) =>
    exec("ALTER TABLE datahub.provider_owners ADD COLUMN IF NOT EXISTS released_at timestamptz")
}
