/** The strategy manifest of a code version, and how a strategy names a universe member. */
import type { CodeVersion, StrategyManifest, UniverseMember } from "@quasar/domain"

/** The version's manifest when it is a strategy's (a provider's or broker's has no params or universe). */
export const strategyManifestOf = (version: CodeVersion): StrategyManifest | null =>
  version.manifest?.kind === "strategy" ? version.manifest : null

/** How the strategy names a member (`provider:symbol` for a pair), as in its fills and orders. */
export const memberKey = (member: UniverseMember): string =>
  typeof member === "string" ? member : `${member.provider}:${member.symbol}`
