/** `SwaggerAssets` from the pinned `swagger-ui-dist` package, each file read once on first use. */
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Effect, Layer } from "effect"
import { SwaggerAssets } from "../ApiDocs"

const file = (name: string) => {
  const dir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"))
  return Effect.cached(Effect.orDie(Effect.tryPromise(() => readFile(join(dir, name)))))
}

export const layer = Layer.effect(
  SwaggerAssets,
  Effect.all({ css: file("swagger-ui.css"), bundle: file("swagger-ui-bundle.js") })
)
