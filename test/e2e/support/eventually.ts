/**
 * Waiting on what the page shows. playwright-core has no auto-retrying `expect`, so this polls a
 * probe until its value passes, and fails with the last value seen (and what was expected).
 */
import type { Locator } from "playwright-core"

export const eventually = async <A>(
  what: string,
  probe: () => Promise<A>,
  ok: (a: A) => boolean,
  timeoutMs = 20_000,
  intervalMs = 250
): Promise<A> => {
  const started = Date.now()
  let last: A | string = "nothing yet"
  for (;;) {
    try {
      const value = await probe()
      last = value
      if (ok(value)) return value
    } catch (e) {
      last = `error: ${e instanceof Error ? e.message : String(e)}`
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `${what}: not within ${timeoutMs} ms (last seen: ${JSON.stringify(last)?.slice(0, 500)})`
      )
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/**
 * What the user reads: the rendered text, with line breaks between blocks (unlike `textContent`).
 * A page that has just been opened may take seconds to render on a busy machine, so a one-off
 * read waits as long as the other steps do; polls pass a short wait of their own.
 */
export const visibleText = (locator: Locator, timeoutMs = 20_000) =>
  // biome-ignore lint/performance/useDomNodeTextContent: a playwright locator, where rendered text is the point
  locator.innerText({ timeout: timeoutMs })

/** The element's visible text once it matches `pattern`. */
export const textMatching = (locator: Locator, pattern: RegExp, timeoutMs = 20_000) =>
  eventually(
    `text matching ${pattern}`,
    () => visibleText(locator, 2_000),
    (t) => pattern.test(t),
    timeoutMs
  )
