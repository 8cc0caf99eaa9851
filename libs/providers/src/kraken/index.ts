/** Kraken provider: the module's default export plus the pieces other code and tests reuse. */

export { krakenBroker } from "./broker"
export * from "./parse"
export { kraken, kraken as default } from "./provider"
export { fetchAssetPairs, ohlcHistory, publicGet } from "./rest"
export * from "./symbols"
export { BarCloser, krakenLive, type LiveOptions } from "./ws"
