/**
 * The README's example strategy, read from the README itself so the end-to-end test uploads
 * exactly what a reader would copy: the first TypeScript block of "Writing a strategy".
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { repoRoot } from "../../support/processes"

export const readmeStrategy = (): string => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("## Writing a strategy"))
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  if (block === undefined || !block.includes("defineStrategy"))
    throw new Error('README.md has no ```ts block with defineStrategy under "Writing a strategy"')
  return block
}

/** What the README's example declares, which the test's bars and mapping are arranged for. */
export const README_STRATEGY = {
  name: "sma-cross",
  commonSymbol: "BTC/USD",
  timeframe: "1h",
  warmup: 30
} as const
