/**
 * The receiving side of a text WebSocket as `SocketConnection.messages` reads it: frames queued as
 * they arrive, read as an async iterable that ends once the socket has closed and every frame
 * before the close is read. The in-process connector (node/connectWebSocket.ts) and the sandbox
 * child's relayed one both receive so.
 */
export const makeSocketMessages = () => {
  const queue: Array<string> = []
  let wake: (() => void) | undefined
  let closeCode: number | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }

  async function* read(): AsyncGenerator<string> {
    while (true) {
      const next = queue.shift()
      if (next !== undefined) {
        yield next
        continue
      }
      if (closeCode !== undefined) return
      await new Promise<void>((r) => {
        wake = r
      })
    }
  }

  return {
    /** A frame arrived. */
    push: (data: string) => {
      queue.push(data)
      notify()
    },
    /** The socket closed with `code`: reading ends after the frames already queued. */
    closed: (code: number) => {
      closeCode = code
      notify()
    },
    get closeCode() {
      return closeCode
    },
    read
  }
}
