/** The page at `/` until `apps/web` has been built (`apps/web/dist` does not exist yet). */

export interface PlaceholderLinks {
  readonly registry: string
  readonly datahub: string
  readonly trader: string
}

export const placeholderPage = ({ registry, datahub, trader }: PlaceholderLinks): string => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Quasar</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 4rem auto; padding: 0 1rem; color: #222 }
    h1 { margin-bottom: 0 } p.tag { margin-top: 0; color: #666 }
    table { border-collapse: collapse } td { padding: .25rem 1rem .25rem 0 }
    code { background: #f3f3f3; padding: 0 .25rem }
  </style>
</head>
<body>
  <h1>Quasar</h1>
  <p class="tag">Open market-data platform: clean, gap-free OHLCV bars from many sources in one database.</p>
  <p>The services are running; the UI comes in a later issue. Until then, here are the APIs.</p>
  <table>
    <tr><td>Registry</td>
      <td><a href="${registry}/health">health</a></td>
      <td><a href="${registry}/docs">API docs</a></td>
      <td><a href="/api/registry/health">health via /api/registry/</a></td></tr>
    <tr><td>DataHub</td>
      <td><a href="${datahub}/health">health</a></td>
      <td><a href="${datahub}/docs">API docs</a></td>
      <td><a href="/api/datahub/health">health via /api/datahub/</a></td></tr>
    <tr><td>Trader</td>
      <td><a href="${trader}/health">health</a></td>
      <td><a href="${trader}/docs">API docs</a></td>
      <td><a href="/api/trader/health">health via /api/trader/</a></td></tr>
  </table>
  <p>This page is replaced by the UI once <code>apps/web/dist</code> exists.</p>
</body>
</html>
`
