/** Test helpers for provider authors: a plain context and the contract suite. */
export { type ContractFixture, providerContract } from "./contract"
export * from "./eodhd/server"
export type { FakeAccountSeed, FakeAccountView, FakeExchange } from "./kraken/private/exchange"
export * from "./kraken/server"
export { type LogRecord, testContext } from "./testContext"
