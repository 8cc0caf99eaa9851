/**
 * Deployments and what they did. Every row a deployment's fiber writes is keyed so that writing
 * the same event twice (a bar handled again after a restart) changes nothing: orders by their
 * client order id (derived from the deployment, the bar time and the order's place in that bar),
 * fills by the account's fill id, audit entries by a key derived the same way, equity points by
 * bar time, marks (the last bar of each symbol) by symbol. A deployment's account is rebuilt from
 * these rows when Trader starts again.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

const statements = [
  `CREATE TABLE IF NOT EXISTS trader.deployments (
     id serial PRIMARY KEY,
     status text NOT NULL CHECK (status IN ('created', 'running', 'stopped', 'flattening', 'killed', 'breached', 'failed')),
     strategy text NOT NULL,
     version integer NOT NULL,
     code_sha256 text NOT NULL,
     provider text NOT NULL,
     params jsonb NOT NULL,
     account jsonb NOT NULL,
     risk jsonb NOT NULL,
     -- [{ key, symbol }]: the strategy's universe keys and the provider's own symbols.
     universe jsonb NOT NULL,
     timeframe text NOT NULL,
     message text,
     -- While flattening: what it ends as once flat ('killed' or 'breached').
     flatten_as text CHECK (flatten_as IN ('killed', 'breached')),
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now(),
     last_bar_ts bigint,
     -- The UTC day the daily loss counts from, and the equity it started with.
     day_start bigint,
     day_start_equity double precision)`,
  `CREATE INDEX IF NOT EXISTS deployments_active_idx
     ON trader.deployments (id) WHERE status IN ('running', 'flattening')`,
  `CREATE TABLE IF NOT EXISTS trader.deployment_orders (
     deployment_id integer NOT NULL REFERENCES trader.deployments (id) ON DELETE CASCADE,
     client_order_id text NOT NULL UNIQUE,
     -- The id the strategy knows it by (ctx.order's return value), in placing order.
     seq integer NOT NULL,
     order_id text,
     symbol text NOT NULL,
     side text NOT NULL CHECK (side IN ('buy', 'sell')),
     type text NOT NULL CHECK (type IN ('market', 'limit', 'stop')),
     quantity double precision NOT NULL,
     limit_price double precision,
     stop_price double precision,
     status text NOT NULL CHECK (status IN ('open', 'filled', 'canceled', 'expired', 'rejected')),
     placed_at bigint NOT NULL,
     closed_at bigint,
     reason text,
     UNIQUE (deployment_id, seq))`,
  `CREATE TABLE IF NOT EXISTS trader.deployment_fills (
     deployment_id integer NOT NULL REFERENCES trader.deployments (id) ON DELETE CASCADE,
     fill_id text NOT NULL,
     client_order_id text NOT NULL,
     order_id text NOT NULL,
     symbol text NOT NULL,
     side text NOT NULL CHECK (side IN ('buy', 'sell')),
     quantity double precision NOT NULL,
     price double precision NOT NULL,
     fee double precision NOT NULL,
     ts bigint NOT NULL,
     PRIMARY KEY (deployment_id, fill_id))`,
  `CREATE TABLE IF NOT EXISTS trader.deployment_audit (
     id bigserial PRIMARY KEY,
     deployment_id integer NOT NULL REFERENCES trader.deployments (id) ON DELETE CASCADE,
     key text NOT NULL,
     ts bigint NOT NULL,
     kind text NOT NULL CHECK (kind IN ('order', 'risk', 'status')),
     decision text NOT NULL,
     client_order_id text,
     message text NOT NULL,
     recorded_at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (deployment_id, key))`,
  `CREATE TABLE IF NOT EXISTS trader.deployment_equity (
     deployment_id integer NOT NULL REFERENCES trader.deployments (id) ON DELETE CASCADE,
     ts bigint NOT NULL,
     cash double precision NOT NULL,
     equity double precision NOT NULL,
     PRIMARY KEY (deployment_id, ts))`,
  `CREATE TABLE IF NOT EXISTS trader.deployment_marks (
     deployment_id integer NOT NULL REFERENCES trader.deployments (id) ON DELETE CASCADE,
     symbol text NOT NULL,
     ts bigint NOT NULL,
     open double precision NOT NULL,
     high double precision NOT NULL,
     low double precision NOT NULL,
     close double precision NOT NULL,
     PRIMARY KEY (deployment_id, symbol))`
]

export const deployments: Migration = {
  id: 3,
  name: "deployments",
  up: ({ exec }) => Effect.forEach(statements, exec, { discard: true })
}
