/**
 * Rows in every table of the layout before each service got its own schema (everything in
 * `public`), and a fingerprint of a table's rows to compare them after the upgrade.
 */
export const legacySeed = [
  `INSERT INTO public.code_registry (name, kind, version, sha256, source, size, status, manifest)
   VALUES ('acme', 'provider', 1, 'h1', 'export default 1', 16, 'valid', '{"name":"acme"}'),
          ('acme', 'provider', 2, 'h2', 'export default 2', 16, 'active', '{"name":"acme"}'),
          ('cross', 'strategy', 1, 'h3', 'export default 3', 16, 'active', NULL)`,
  `INSERT INTO public.provider_settings (name, "values", secrets)
   VALUES ('acme', '{"symbols":"A,B"}', '{"apiKey":"v2:sealed"}')`,
  `INSERT INTO public.assets (provider, symbol, name, asset_class, exchange, isin)
   SELECT 'acme', 'S' || i, 'Stock ' || i, 'equity', 'NASDAQ', 'US' || lpad(i::text, 10, '0')
   FROM generate_series(1, 50) AS i`,
  `INSERT INTO public.asset_mapping (common_symbol, source, source_kind, symbol)
   VALUES ('S1/USD', 'acme', 'provider', 'S1')`,
  `INSERT INTO public.change_events (channel, payload)
   SELECT 'code', jsonb_build_object('name', 'acme', 'n', i) FROM generate_series(1, 3) AS i`,
  `INSERT INTO public.provider_subscription (provider, symbol, timeframe, mode, status, collected_until)
   VALUES ('acme', 'S1', '1m', 'both', 'current', '2024-01-02'),
          ('acme', 'S2', '1d', 'history', 'paused', NULL)`,
  `INSERT INTO public.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume, trades)
   SELECT 'acme', 'S1', '1m', timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute',
          100 + i, 102 + i, 99 + i, 101 + i, i, i % 7
   FROM generate_series(0, 2999) AS i`,
  `INSERT INTO public.live_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
   VALUES ('acme', 'S1', '1m', '2024-01-03 02:00:00+00', 1, 2, 0.5, 1.5, 10)`,
  `INSERT INTO public.collection_runs (subscription_id, provider, symbol, timeframe, kind, range_from, range_to,
     status, rows_written, heartbeat_at)
   VALUES (1, 'acme', 'S1', '1m', 'backfill', '2024-01-01', '2024-01-03', 'ok', 3000, now())`,
  `INSERT INTO public.collection_empty_ranges (provider, symbol, timeframe, range_from, range_to)
   VALUES ('acme', 'S2', '1d', '2023-12-24', '2023-12-26')`
]

/** Each service's tables and how many rows `legacySeed` puts in each. */
export const seededTables = {
  registry: { code_registry: 3, provider_settings: 1, assets: 50, asset_mapping: 1, change_events: 3 },
  datahub: {
    provider_subscription: 2,
    historical_data: 3000,
    live_data: 1,
    collection_runs: 1,
    collection_empty_ranges: 1
  }
} as const

/**
 * Row count and a digest of every row, in a stable order. A row is its non-null columns by name:
 * a column a later migration adds (NULL in the old rows) leaves the digest as it was.
 */
export const fingerprint = (table: string) =>
  `SELECT count(*)::int AS n, md5(coalesce(string_agg(r, '|' ORDER BY r), '')) AS digest
   FROM (SELECT jsonb_strip_nulls(to_jsonb(t))::text AS r FROM ${table} t) rows`
