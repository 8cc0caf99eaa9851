/**
 * The UI's built files, served like the Nginx `location`s do: `/assets/*` exactly (hashed names,
 * cached for a year), anything else `try_files $uri $uri/ /index.html` (SPA history mode), and
 * every `index.html` with `Cache-Control: no-cache` so a new build is picked up at once.
 */
import { createReadStream, statSync } from "node:fs"
import type { IncomingMessage, ServerResponse } from "node:http"
import { extname, join, normalize, sep } from "node:path"

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
  ".mjs": "application/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm"
}

const isFile = (path: string) => {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** The file under `root` that `pathname` names, or null when it escapes `root` or is malformed. */
const within = (root: string, pathname: string): string | null => {
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    return null
  }
  if (decoded.includes("\0")) return null
  const path = normalize(join(root, decoded))
  return path === root || path.startsWith(root + sep) ? path : null
}

const send = (req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string | null) => {
  const { size } = statSync(file)
  res.writeHead(200, {
    "content-type": types[extname(file).toLowerCase()] ?? "application/octet-stream",
    "content-length": size,
    ...(cacheControl === null ? {} : { "cache-control": cacheControl })
  })
  if (req.method === "HEAD") {
    res.end()
    return
  }
  createReadStream(file)
    .on("error", () => res.destroy())
    .pipe(res)
}

const plain = (res: ServerResponse, status: number, text: string) => {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" })
  res.end(`${text}\n`)
}

type Answer =
  | { readonly file: string; readonly cache: string | null }
  | { readonly status: number; readonly text: string }

const choose = (root: string, req: IncomingMessage): Answer => {
  if (req.method !== "GET" && req.method !== "HEAD") return { status: 405, text: "Method Not Allowed" }
  const pathname = new URL(req.url ?? "/", "http://localhost").pathname
  const path = within(root, pathname)
  if (path === null) return { status: 400, text: "Bad Request" }
  const index = join(root, "index.html")
  if (pathname.startsWith("/assets/")) {
    return isFile(path)
      ? { file: path, cache: "public, max-age=31536000, immutable" }
      : { status: 404, text: "Not Found" }
  }
  if (isFile(path)) return { file: path, cache: path === index ? "no-cache" : null }
  const dirIndex = join(path, "index.html")
  if (isFile(dirIndex)) return { file: dirIndex, cache: "no-cache" }
  if (isFile(index)) return { file: index, cache: "no-cache" }
  return { status: 404, text: "Not Found" }
}

/** Answers from `root` (an existing directory, absolute). */
export const serveStatic = (root: string, req: IncomingMessage, res: ServerResponse): void => {
  const answer = choose(root, req)
  if ("file" in answer) send(req, res, answer.file, answer.cache)
  else plain(res, answer.status, answer.text)
}
