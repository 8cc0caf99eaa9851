/**
 * Kraken's nonce: an "always increasing, unsigned 64-bit integer" per API key
 * (docs.kraken.com/api/docs/guides/spot-rest-auth); one "less than or equal to the last accepted
 * nonce for this API key" answers `EAPI:Invalid nonce` (docs.kraken.com/exchange/guides/general/errors).
 * With the default nonce window of 0 (support.kraken.com "What is a nonce window?") requests must
 * also *arrive* in nonce order: "if the second request (with a higher nonce) arrives before the
 * first request (with a lower nonce), the first request would be rejected" (support.kraken.com
 * "Why am I getting invalid nonce errors?").
 *
 * So a nonce is the time in microseconds (it keeps increasing across restarts and stays above
 * the millisecond nonces most clients use), bumped by one when the clock has not moved, and each
 * key has one lane that sends its requests one at a time, taking the nonce as a request leaves.
 */

/** The nonce after `last` at `nowMs`; microseconds stay below 2^53 until the year 2255. */
export const nextNonce = (last: number, nowMs: number): number =>
  Math.max(Math.floor(nowMs) * 1_000, last + 1)

/** One API key's requests, in nonce order, one at a time. */
export class KeyLane {
  private last = 0
  private tail: Promise<unknown> = Promise.resolve()

  /** Runs `send` with a fresh nonce once every earlier request of this key has settled. */
  run<T>(now: () => number, send: (nonce: number) => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      this.last = nextNonce(this.last, now())
      return send(this.last)
    })
    this.tail = result.catch(() => undefined)
    return result
  }
}

/** Lanes per API key, shared by every call in this process: the nonce belongs to the key. */
const lanes = new Map<string, KeyLane>()

export const laneOf = (apiKey: string): KeyLane => {
  let lane = lanes.get(apiKey)
  if (lane === undefined) {
    lane = new KeyLane()
    lanes.set(apiKey, lane)
  }
  return lane
}
