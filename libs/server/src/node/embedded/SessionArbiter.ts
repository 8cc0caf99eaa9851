/**
 * PGlite has one session. The arbiter hands it to one client connection at a time, first come
 * first served; the holder keeps it until it gives it back.
 */
export class SessionArbiter<C> {
  private holder: C | null = null
  private readonly waiting: Array<{ readonly client: C; readonly resume: (granted: boolean) => void }> = []

  /** Resolves `true` once `client` holds the session, or `false` if `cancel` removed it from the queue. */
  acquire(client: C): Promise<boolean> {
    if (this.holder === client) return Promise.resolve(true)
    if (this.holder === null) {
      this.holder = client
      return Promise.resolve(true)
    }
    return new Promise((resume) => this.waiting.push({ client, resume }))
  }

  release(client: C): void {
    if (this.holder !== client) return
    const next = this.waiting.shift()
    this.holder = next ? next.client : null
    next?.resume(true)
  }

  cancel(client: C): void {
    const i = this.waiting.findIndex((w) => w.client === client)
    if (i >= 0) this.waiting.splice(i, 1)[0]!.resume(false)
  }

  holds(client: C): boolean {
    return this.holder === client
  }

  get queued(): number {
    return this.waiting.length
  }
}
