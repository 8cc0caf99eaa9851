/**
 * A fresh clone has no built UI: on the first `npm start` (and whenever apps/web/dist is gone)
 * build it once with Vite, so port 3000 serves the real UI rather than the placeholder. An
 * explicit QUASAR_WEB_DIST is the user's business and is never built into.
 */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { join, resolve } from "node:path"
import { Effect } from "effect"
import { LauncherError } from "./LauncherError"

export const ensureWebBuild = (repoRoot: string, webDist: string, say: (line: string) => void) =>
  Effect.gen(function* () {
    const standard = resolve(repoRoot, "apps", "web", "dist")
    if (webDist !== standard || existsSync(join(webDist, "index.html"))) return
    say("quasar: building the UI (first start only; `npm run build` rebuilds it)")
    yield* Effect.async<void, LauncherError>((resume) => {
      const child = spawn(
        process.execPath,
        [join(repoRoot, "node_modules", "vite", "bin", "vite.js"), "build"],
        {
          cwd: join(repoRoot, "apps", "web"),
          stdio: ["ignore", "ignore", "inherit"]
        }
      )
      child.once("error", (e) =>
        resume(Effect.fail(new LauncherError({ message: `cannot build the UI: ${e.message}` })))
      )
      child.once("exit", (code) =>
        resume(
          code === 0
            ? Effect.void
            : Effect.fail(
                new LauncherError({
                  message: `building the UI failed (vite exited ${code}); run npm run build`
                })
              )
        )
      )
    })
  })
