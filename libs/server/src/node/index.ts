export * as EmbeddedPostgres from "./EmbeddedPostgres"
export { freePort } from "./freePort"
export * from "./runService"
export * as SwaggerAssets from "./SwaggerAssets"
