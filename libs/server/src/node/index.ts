export * as EmbeddedPostgres from "./EmbeddedPostgres"
export * from "./runService"
