/**
 * The whole product for the e2e tests, started once per run: the UI built once, Registry,
 * DataHub and Trader on a fresh database, fake Kraken and EODHD (set as the built-ins' URLs), real nginx
 * with the production config in front, and chromium on a single page (the admin token lives in
 * that tab's sessionStorage, as for a user).
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type FakeKraken, startFakeEodhd, startFakeKraken } from "@quasar/providers/testing"
import type { Browser, Page } from "playwright-core"
import { freePort } from "../../support/processes"
import { type ApiClients, apiClients } from "./api"
import { collectPageErrors, launchBrowser } from "./browser"
import { startNginx } from "./nginx"
import { nginxBinary } from "./prerequisites"
import { startServices } from "./services"
import { buildWeb } from "./webBuild"

export interface Stack {
  /** nginx: what the browser uses. */
  readonly url: string
  /** The UI build nginx serves. */
  readonly webRoot: string
  readonly registryUrl: string
  readonly datahubUrl: string
  readonly traderUrl: string
  readonly adminToken: string
  readonly serviceToken: string
  readonly api: ApiClients
  /** The fake Kraken behind the built-in kraken provider, whose private API the broker trades on. */
  readonly kraken: FakeKraken
  readonly browser: Browser
  readonly page: Page
  /** Page errors seen since the last `takePageErrors()`. */
  readonly takePageErrors: () => Array<string>
  readonly logs: () => string
  readonly stop: () => Promise<void>
}

const value = <A>(result: PromiseSettledResult<A>): A => {
  if (result.status === "rejected") throw result.reason
  return result.value
}

export const startStack = async (): Promise<Stack> => {
  const dir = mkdtempSync(join(tmpdir(), "quasar-e2e-"))
  chmodSync(dir, 0o755)
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })]
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
  }
  try {
    // The build and the service start-up overlap; whatever started is stopped if another part fails.
    const [webR, servicesR, krakenR, eodhdR] = await Promise.allSettled([
      buildWeb(join(dir, "web")),
      startServices(join(dir, "data"), { trader: true }),
      startFakeKraken({ seed: 7 }),
      startFakeEodhd({ seed: 7, validTokens: ["e2e-token"] })
    ])
    if (krakenR.status === "fulfilled") cleanups.push(krakenR.value.close)
    if (eodhdR.status === "fulfilled") cleanups.push(eodhdR.value.close)
    if (servicesR.status === "fulfilled") cleanups.push(servicesR.value.stop)
    const [web, services, kraken, eodhd] = [value(webR), value(servicesR), value(krakenR), value(eodhdR)]
    const traderUrl = `http://127.0.0.1:${services.traderPort}`
    const api = apiClients(services.registryUrl, services.datahubUrl, services.adminToken, traderUrl)
    await api.builtinsActive(["synthetic", "kraken", "eodhd"])
    await api.configure("kraken", { restUrl: kraken.restUrl, wsUrl: kraken.wsUrl })
    await api.configure("eodhd", { apiToken: "e2e-token", baseUrl: eodhd.baseUrl, exchanges: "US,CC" })
    await Promise.all([api.refreshAssets("kraken"), api.refreshAssets("eodhd")])

    const nginx = await startNginx({
      binary: nginxBinary() ?? "nginx",
      dir: join(dir, "nginx"),
      port: await freePort(),
      webRoot: web,
      registryPort: services.registryPort,
      datahubPort: services.datahubPort,
      ...(services.traderPort === 0 ? {} : { traderPort: services.traderPort })
    })
    cleanups.push(nginx.stop)
    const browser = await launchBrowser()
    cleanups.push(() => browser.close())
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(20_000)
    const errors = collectPageErrors(page)
    return {
      url: nginx.url,
      webRoot: web,
      registryUrl: services.registryUrl,
      datahubUrl: services.datahubUrl,
      traderUrl,
      adminToken: services.adminToken,
      serviceToken: services.serviceToken,
      api,
      kraken,
      browser,
      page,
      takePageErrors: () => errors.splice(0),
      logs: () => `${services.logs()}\n--- nginx\n${nginx.errorLog()}`,
      stop
    }
  } catch (e) {
    await stop()
    throw e
  }
}
