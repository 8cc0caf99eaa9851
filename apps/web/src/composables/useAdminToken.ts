/**
 * The admin token that every write needs. Asked for once — when a write is refused with 401 or
 * 403 — and kept in `sessionStorage`, so it dies with the tab. The dialog state is shared by
 * every page, hence module-level refs.
 */
import { readonly, ref } from "vue"

const STORAGE_KEY = "quasar.adminToken"

const stored = (): string | null => {
  try {
    return sessionStorage.getItem(STORAGE_KEY)
  } catch {
    return null
  }
}

const token = ref<string | null>(stored())
/** Why the dialog is open (the server's message), or null when it is closed. */
const prompt = ref<string | null>(null)
let waiting: Array<(token: string | null) => void> = []

const settle = (value: string | null) => {
  prompt.value = null
  const resolvers = waiting
  waiting = []
  for (const resolve of resolvers) resolve(value)
}

export const useAdminToken = () => ({
  token: readonly(token),
  prompt: readonly(prompt),
  /** Opens the dialog; resolves with the token entered, or null when the user cancels. */
  request: (reason: string): Promise<string | null> => {
    prompt.value = reason
    return new Promise((resolve) => waiting.push(resolve))
  },
  submit: (value: string) => {
    const trimmed = value.trim()
    if (trimmed === "") return
    token.value = trimmed
    try {
      sessionStorage.setItem(STORAGE_KEY, trimmed)
    } catch {
      // Private mode without storage: the token lasts until the page reloads.
    }
    settle(trimmed)
  },
  cancel: () => settle(null),
  forget: () => {
    token.value = null
    try {
      sessionStorage.removeItem(STORAGE_KEY)
    } catch {
      // Nothing stored.
    }
  }
})
