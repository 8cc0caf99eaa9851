/**
 * Answers of the Registry kept by key until a change names them. An entry a change touched is
 * stale, not gone: while the Registry cannot answer, the stale value still serves, so collection
 * goes on from what DataHub last knew. A fetch that raced with a change is kept as stale, so it
 * is asked again on next use.
 */
import type { CatalogChange } from "@quasar/domain"
import { Effect } from "effect"

interface Entry {
  readonly value: unknown
  fresh: boolean
}

/** The keys a change makes stale: a name's code, versions and settings; a provider's assets; the mappings. */
export const touches =
  (change: CatalogChange) =>
  (key: string): boolean => {
    switch (change.topic) {
      case "code":
        return (
          key === "providers" ||
          change.name === undefined ||
          key === `code:${change.name}` ||
          key === `settings:${change.name}` ||
          key.startsWith(`version:${change.name}:`)
        )
      case "assets":
        return key === "providers" || change.name === undefined || key === `assets:${change.name}`
      case "mappings":
        return key === "mappings"
    }
  }

export const make = () => {
  const entries = new Map<string, Entry>()
  let generation = 0

  const invalidate = (match: (key: string) => boolean) =>
    Effect.sync(() => {
      generation += 1
      for (const [key, entry] of entries) if (match(key)) entry.fresh = false
    })

  /** The fresh value of `key`, else fetched; the stale one when the fetch fails, else the failure. */
  const get = <A, E>(key: string, fetch: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      const entry = entries.get(key)
      if (entry?.fresh) return Effect.succeed(entry.value as A)
      const started = generation
      return fetch.pipe(
        Effect.tap((value) => Effect.sync(() => entries.set(key, { value, fresh: generation === started }))),
        Effect.catchAll((e) => (entry ? Effect.succeed(entry.value as A) : Effect.fail(e)))
      )
    })

  return {
    get,
    invalidate,
    invalidateAll: invalidate(() => true),
    /** Drops `key` (a value that must not be served stale). */
    drop: (key: string) => Effect.sync(() => entries.delete(key))
  }
}
