/**
 * What a new deployment trades and where, checked before it exists: each universe member in the
 * account's quote currency and from the deployment's provider, with the provider's own symbol for
 * its bars and, on a broker account, the broker's own symbol from the Registry's mappings for the
 * broker (none is a 400: a guessed symbol would trade something else or nothing). A broker account
 * is opened first (an unknown broker is a 404 whatever its mappings) and its free cash in the quote
 * currency is what the deployment's cash counts from.
 */
import {
  type DeploymentRequest,
  InvalidRequest,
  NotFound,
  type ProviderName,
  ServiceUnavailable
} from "@quasar/domain"
import { type UniverseMember as StrategyUniverseMember, universeKey } from "@quasar/providers/sdk"
import { Effect, Option } from "effect"
import { type BrokerError, BrokerHost } from "../broker/BrokerHost"
import { SymbolMappings } from "../strategies/SymbolMappings"
import type { StoredAccount, UniverseMember } from "./DeploymentsRepo"

/** A broker's failure as the API answers it when a deployment is created. */
const brokerProblem = (broker: string, e: BrokerError) =>
  e._tag === "BrokerUnavailable"
    ? new ServiceUnavailable({
        message: `broker ${broker} could not be reached (${e.reason}: ${e.message}); retry`
      })
    : e.reason === "unknownBroker"
      ? new NotFound({ message: `no broker named ${broker}: ${e.message}` })
      : new InvalidRequest({
          message: `broker ${broker} refused to open the account (${e.reason}): ${e.message}`,
          field: "account.broker"
        })

/** The broker account's free cash in `quote`. */
const brokerCash = (broker: ProviderName, quote: string) =>
  Effect.flatMap(BrokerHost, (host) =>
    Effect.scoped(
      Effect.gen(function* () {
        const handle = yield* host.open(broker)
        const balances = yield* handle.balances
        const cash = balances.find((b) => b.asset === quote)
        return cash === undefined ? 0 : (cash.available ?? cash.total)
      })
    )
  ).pipe(Effect.catchAll((e) => Effect.fail(brokerProblem(broker, e))))

export const deploymentAccount = (
  request: DeploymentRequest,
  members: ReadonlyArray<StrategyUniverseMember>
) =>
  Effect.gen(function* () {
    const mappings = yield* SymbolMappings
    const spec = request.account
    const quote = spec.quote
    const cash = spec.type === "broker" ? yield* brokerCash(spec.broker, quote) : spec.initialCash
    const universe: Array<UniverseMember> = []
    for (const member of members) {
      const key = universeKey(member)
      if (!key.endsWith(`/${quote}`))
        return yield* new InvalidRequest({
          message: `the ${spec.type} account holds ${quote}, so it can only trade */${quote} pairs, and ${key} is not one; give the account the quote currency of the strategy's universe`,
          field: "account.quote"
        })
      if (typeof member !== "string" && member.provider !== request.provider)
        return yield* new InvalidRequest({
          message: `the strategy trades ${key}, a ${member.provider} symbol, but the deployment's bars come from ${request.provider}; deploy it with provider ${member.provider}`,
          field: "provider"
        })
      const symbol =
        typeof member === "string" ? yield* mappings.providerSymbol(request.provider, member) : member.symbol
      if (spec.type === "paper") {
        universe.push({ key, symbol })
        continue
      }
      const brokerSymbol = yield* mappings.brokerSymbol(spec.broker, key)
      if (Option.isNone(brokerSymbol))
        return yield* new InvalidRequest({
          message: `broker ${spec.broker} has no mapping for ${key}, so the deployment cannot trade it there; add the mapping in the Registry (source ${spec.broker}, common symbol ${key}) and create the deployment again`,
          field: "account.broker"
        })
      universe.push({ key, symbol, brokerSymbol: brokerSymbol.value })
    }
    const account: StoredAccount =
      spec.type === "paper" ? spec : { type: "broker", broker: spec.broker, quote, initialCash: cash }
    return { account, universe }
  })
