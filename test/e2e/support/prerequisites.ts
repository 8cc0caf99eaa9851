/**
 * The e2e tests drive Debian's chromium through real nginx. Without them (a developer machine
 * that never ran `apt-get install chromium nginx`) the suite is skipped with the reason; in CI
 * (`CI` set) their absence is an error, not a skip.
 */
import { accessSync, constants } from "node:fs"

export const CHROMIUM = "/usr/bin/chromium"
const NGINX_CANDIDATES = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export const nginxBinary = (): string | undefined => NGINX_CANDIDATES.find(executable)

/** Why the e2e suite cannot run here, or null when it can. */
export const missingPrerequisites = (): string | null => {
  const missing = [
    executable(CHROMIUM) ? null : CHROMIUM,
    nginxBinary() ? null : `nginx (looked in ${NGINX_CANDIDATES.join(", ")})`
  ].filter((m) => m !== null)
  if (missing.length === 0) return null
  const reason = `e2e UI tests need ${missing.join(" and ")}: apt-get install -y --no-install-recommends chromium nginx`
  if (process.env.CI) throw new Error(`${reason} (CI is set, so they must be installed)`)
  return reason
}
