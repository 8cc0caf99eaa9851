/** The fake private API's fault controls, as state: what the next requests will suffer. */

export interface Faults {
  /** Errors the next AddOrder requests answer, one each, without executing. */
  orderFailures: Array<string>
  /** The next N requests answer `EAPI:Invalid nonce` (their nonce is not spent). */
  invalidNonces: number
  /**
   * The next requests (of a method, or any) are accepted at once (nonce spent) and executed this
   * long later, as when Kraken's matching engine queues them.
   */
  queued: Array<Delay>
  /** The next requests (of a method, or any) are processed at once and answered this long later. */
  slowAnswers: Array<Delay>
  /** The next N AddOrder requests execute, then the connection drops without an answer. */
  drops: number
}

export interface Delay {
  readonly ms: number
  readonly method: string | undefined
}

/** Takes the first delay that applies to `method`. */
export const takeDelay = (delays: Array<Delay>, method: string): number | undefined => {
  const i = delays.findIndex((d) => d.method === undefined || d.method === method)
  return i < 0 ? undefined : delays.splice(i, 1)[0]?.ms
}

export const noFaults = (): Faults => ({
  orderFailures: [],
  invalidNonces: 0,
  queued: [],
  slowAnswers: [],
  drops: 0
})

export const times = <T>(n: number, value: T): Array<T> => Array.from({ length: n }, () => value)
