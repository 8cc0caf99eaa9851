/** Test helpers for provider authors: a plain context and the contract suite. */
export { type ContractFixture, providerContract } from "./contract"
export * from "./eodhd/server"
export * from "./kraken/server"
export { type LogRecord, testContext } from "./testContext"
