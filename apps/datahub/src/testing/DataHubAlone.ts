/**
 * DataHub as production wires it, with the Registry's catalogue in memory (`MemoryCatalog`): for
 * tests that run DataHub without a Registry.
 */
import { Layer } from "effect"
import { appLayer } from "../App"
import { MemoryCatalog } from "./MemoryCatalog"

export const DataHubAlone = appLayer().pipe(Layer.provideMerge(MemoryCatalog.layer))
