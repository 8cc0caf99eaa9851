/** The synthetic provider and the deterministic walk that is its (and the fakes') ground truth. */
export { syntheticProvider } from "./provider"
export { barAt, barsBetween, timeframeMs, type WalkOptions } from "./randomWalk"
