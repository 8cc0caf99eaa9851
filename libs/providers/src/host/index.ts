/**
 * The host harness: runs a provider in-process as Effects (DataHub uses it for built-in
 * providers and, inside its sandbox child, for uploaded ones). Runtime-neutral; the Node
 * WebSocket connector is in `./node`.
 */
export { type Connector, makeProviderContext, type ProviderContextOptions, withCallSignal } from "./context"
export { providerLogger } from "./logger"
export { type AssetListing, type CallOptions, history, listAssets, live } from "./providerCalls"
export { classifyProviderError, failFromProvider } from "./providerError"
export {
  backoffWhile,
  providerRetrySchedule,
  type RetryOptions,
  retryProviderCall,
  retryProviderStream
} from "./retry"
export {
  formatSettingsProblems,
  type RawSettings,
  resolveSettings,
  type SettingsProblem,
  type SettingValue
} from "./settings"
export { makeSocketMessages } from "./socketMessages"
export {
  makeTokenBucket,
  makeTokenBucketRegistry,
  type RateLimit,
  sharedTokenBuckets,
  type TokenBucket,
  type TokenBucketRegistry
} from "./TokenBucket"
export {
  AssetInfoSchema,
  checkBar,
  type HistoryChunk,
  historyScreen,
  liveScreen,
  screenAssets
} from "./validation"
