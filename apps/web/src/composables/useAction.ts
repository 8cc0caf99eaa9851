/**
 * State of one user-triggered call: `busy` while it runs (buttons disable, a progress line
 * shows), `error` with the server's message when it fails (and `failure`, the typed error, for
 * a page that shows more of it), `done` for a short success note.
 */
import { ref, shallowRef } from "vue"
import type { ApiFailure, Outcome } from "./useApi"

export const useAction = () => {
  const busy = ref(false)
  const error = ref<string | null>(null)
  const done = ref<string | null>(null)
  const failure = shallowRef<ApiFailure | null>(null)

  /** Runs `call`; yields its value, or undefined after recording the failure. */
  const run = async <A>(
    call: () => Promise<Outcome<A>>,
    success?: (a: A) => string
  ): Promise<A | undefined> => {
    busy.value = true
    error.value = null
    done.value = null
    failure.value = null
    try {
      const outcome = await call()
      if (!outcome.ok) {
        error.value = outcome.failure.message
        failure.value = outcome.failure
        return undefined
      }
      if (success) done.value = success(outcome.value)
      return outcome.value
    } finally {
      busy.value = false
    }
  }

  return { busy, error, done, failure, run }
}
