/**
 * Strategy code is versioned in `code_registry` next to provider and broker code, so the kind
 * check admits it. Mappings stay provider and broker only: a strategy has no symbols of its own.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  "ALTER TABLE code_registry DROP CONSTRAINT IF EXISTS code_registry_kind_check",
  `ALTER TABLE code_registry ADD CONSTRAINT code_registry_kind_check
     CHECK (kind IN ('provider', 'broker', 'strategy'))`
]

export const strategyCode: Migration = {
  id: 8,
  name: "strategy_code",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
