/**
 * The provider host harness (`@quasar/providers/host`: screening, timeouts, settings checks) as
 * DataHub's sandbox, runner and in-process sources use it.
 */
export * from "@quasar/providers/host"
