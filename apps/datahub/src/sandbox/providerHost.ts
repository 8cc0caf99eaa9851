/**
 * The provider host harness (libs/providers/src/host) as DataHub uses it. `@quasar/providers`
 * does not export `./host` yet, so this one file reaches into the sources; when the package
 * gains that export, only this line changes.
 */
export * from "@quasar/providers/host"
