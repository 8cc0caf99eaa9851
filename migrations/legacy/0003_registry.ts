/**
 * Registry state beyond the seed columns: the language and origin of each upload, one active
 * (or disabled) version per name, and per-provider settings with secrets encrypted at rest.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  "ALTER TABLE code_registry ADD COLUMN IF NOT EXISTS language text NOT NULL DEFAULT 'javascript'",
  "ALTER TABLE code_registry ADD COLUMN IF NOT EXISTS built_in boolean NOT NULL DEFAULT false",
  // At most one version per name is the current one (active, or active-then-disabled).
  `CREATE UNIQUE INDEX IF NOT EXISTS code_registry_current_idx
     ON code_registry (name) WHERE status IN ('active', 'disabled')`,
  `CREATE TABLE IF NOT EXISTS provider_settings (
     name text PRIMARY KEY,
     "values" jsonb NOT NULL DEFAULT '{}',
     -- key → AES-256-GCM envelope ("v1:<iv>:<ciphertext>", base64url); never leaves the server.
     secrets jsonb NOT NULL DEFAULT '{}',
     updated_at timestamptz NOT NULL DEFAULT now())`
]

export const registry: Migration = {
  id: 3,
  name: "registry",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
