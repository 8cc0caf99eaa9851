/**
 * A DataHub runner process for the cluster's live tests: production's entry point (`runService`,
 * the cluster configured from the environment) with the real Kraken provider run in-process
 * against a fake Kraken that the test process serves (`FAKE_KRAKEN_REST`, `FAKE_KRAKEN_WS`), for
 * live streams and gap fills alike, and the live tests' short delays.
 *
 * Every process of a test reads one accelerated clock (apps/datahub/test/live/clock.ts): the fake
 * time `CLOCK_T0` at the real epoch ms `CLOCK_START`, so the fake's bars, the provider's and this
 * runner's bar arithmetic agree across processes.
 */
import { acceleratedNow, krakenInProcess } from "../live/clock"
import { required, runRunner } from "./runnerApp"

const now = acceleratedNow(Number(required("CLOCK_T0")), Number(required("CLOCK_START")))
const fake = { restUrl: required("FAKE_KRAKEN_REST"), wsUrl: required("FAKE_KRAKEN_WS") }

runRunner(krakenInProcess(fake, now))
