/**
 * Deployments on a broker account. The broker's name is a column (the account stays in `account`
 * too) so that a broker's deployments can be found without reading every account. An order is
 * recorded as `sending` before the broker is called and updated with the broker's answer, so an
 * order whose fate a crash left unknown is found again (by its client order id at the broker) when
 * Trader starts; `unplaced` marks one the broker never placed. `broker_client_order_id` is the id
 * the broker knows the order by (brokers limit their length), `sent_at` when the call was made:
 * a broker guarantees, some time after it, that an order not visible will not appear any more.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  "ALTER TABLE trader.deployments ADD COLUMN IF NOT EXISTS broker text",
  `CREATE INDEX IF NOT EXISTS deployments_broker_idx ON trader.deployments (broker) WHERE broker IS NOT NULL`,
  `ALTER TABLE trader.deployment_orders
     ADD COLUMN IF NOT EXISTS broker_client_order_id text,
     ADD COLUMN IF NOT EXISTS sent_at bigint`,
  "ALTER TABLE trader.deployment_orders DROP CONSTRAINT IF EXISTS deployment_orders_status_check",
  `ALTER TABLE trader.deployment_orders ADD CONSTRAINT deployment_orders_status_check
     CHECK (status IN ('sending', 'open', 'filled', 'canceled', 'expired', 'rejected', 'unplaced'))`,
  `CREATE INDEX IF NOT EXISTS deployment_orders_sending_idx
     ON trader.deployment_orders (deployment_id) WHERE status = 'sending'`
]

export const brokerDeployments: Migration = {
  id: 5,
  name: "broker_deployments",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
