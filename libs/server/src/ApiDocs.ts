/**
 * Swagger UI at `/docs`, served by the service itself so that it renders under the production
 * CSP (`script-src 'self'`, no inline script): the page, the pinned `swagger-ui-dist` assets and
 * a small initialiser script are all files of this origin. Every URL is relative, so the page
 * works on the service's own port and under a proxy prefix (`/api/registry/docs` loads
 * `/api/registry/openapi.json`, and "Try it out" calls `/api/registry/...`).
 */
import { HttpApi, HttpApiBuilder, HttpServerRequest, HttpServerResponse, OpenApi } from "@effect/platform"
import { Context, Effect } from "effect"

/** The two files of `swagger-ui-dist` the page needs, read where the platform allows (see node/). */
export class SwaggerAssets extends Context.Tag("@quasar/server/SwaggerAssets")<
  SwaggerAssets,
  { readonly css: Effect.Effect<Uint8Array>; readonly bundle: Effect.Effect<Uint8Array> }
>() {}

export const DOCS_PATH = "/docs"

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const page = (title: string) => `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>${escapeHtml(title)} — API documentation</title>
  <link rel="stylesheet" href="docs/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/swagger-initializer.js"></script>
</body>
</html>
`

/**
 * Loads the OpenAPI document next to the page (`…/docs` → `…/openapi.json`) and sends
 * "Try it out" requests under the same prefix.
 */
const initializer = `"use strict";
window.addEventListener("load", function () {
  var base = new URL(".", document.baseURI);
  fetch(new URL("openapi.json", base))
    .then(function (response) { return response.json(); })
    .then(function (spec) {
      spec.servers = [{ url: base.pathname.replace(/\\/$/, "") || "/" }];
      window.ui = SwaggerUIBundle({ spec: spec, dom_id: "#swagger-ui", deepLinking: true });
    });
});
`

const asset = (body: Effect.Effect<Uint8Array>, contentType: string) =>
  Effect.map(body, (bytes) =>
    HttpServerResponse.uint8Array(bytes, {
      contentType,
      headers: { "cache-control": "public, max-age=3600" }
    })
  )

/** The docs routes on the API's router. */
export const layer = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const { api } = yield* HttpApi.Api
    const assets = yield* SwaggerAssets
    const html = page(OpenApi.fromApi(api).info.title)
    yield* router.get(
      DOCS_PATH,
      Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
        // The router also routes `/docs/` here, where the page's relative URLs would miss.
        request.url.split("?")[0]?.endsWith("/")
          ? HttpServerResponse.empty({ status: 301, headers: { location: "../docs" } })
          : HttpServerResponse.html(html).pipe(HttpServerResponse.setHeader("cache-control", "no-cache"))
      )
    )
    yield* router.get(`${DOCS_PATH}/swagger-ui.css`, asset(assets.css, "text/css; charset=utf-8"))
    yield* router.get(
      `${DOCS_PATH}/swagger-ui-bundle.js`,
      asset(assets.bundle, "application/javascript; charset=utf-8")
    )
    yield* router.get(
      `${DOCS_PATH}/swagger-initializer.js`,
      asset(Effect.succeed(new TextEncoder().encode(initializer)), "application/javascript; charset=utf-8")
    )
  })
)
