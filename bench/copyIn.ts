/**
 * `COPY … FROM STDIN` through `pg` without pg-copy-streams: a Submittable that answers the
 * server's CopyInResponse with CopyData messages (waiting for the socket to drain, so encoding
 * and sending overlap as a real loader's would) and then CopyDone. Enough for one benchmark
 * baseline; errors arrive as ErrorResponse and fail the promise.
 */
import { once } from "node:events"
import type { Duplex } from "node:stream"
import type Pg from "pg"

/** The parts of pg's internal Connection this protocol needs (not in @types/pg). */
interface CopyConnection {
  readonly stream: Duplex
  query(text: string): void
  sendCopyFromChunk(chunk: Buffer): void
  endCopyFrom(): void
  sendCopyFail(message: string): void
}

class CopyIn {
  private error: Error | undefined
  constructor(
    private readonly text: string,
    private readonly chunks: () => Iterable<string>,
    private readonly done: (error: Error | undefined) => void
  ) {}

  submit(connection: Pg.Connection) {
    connection.query(this.text)
  }

  handleCopyInResponse(connection: CopyConnection) {
    const pump = async () => {
      for (const chunk of this.chunks()) {
        connection.sendCopyFromChunk(Buffer.from(chunk))
        if (connection.stream.writableNeedDrain) await once(connection.stream, "drain")
      }
      connection.endCopyFrom()
    }
    pump().catch((e: unknown) => connection.sendCopyFail(String(e)))
  }

  handleError(error: Error) {
    this.error = error
  }

  handleReadyForQuery() {
    this.done(this.error)
  }

  handleCommandComplete() {}
  handleRowDescription() {}
  handleDataRow() {}
  handleEmptyQuery() {}
  handlePortalSuspended() {}
}

/** Runs `COPY <target> FROM STDIN` with the text-format lines `chunks` yields. */
export const copyIn = (client: Pg.Client, target: string, chunks: () => Iterable<string>) =>
  new Promise<void>((resolve, reject) => {
    client.query(
      new CopyIn(`COPY ${target} FROM STDIN`, chunks, (error) => (error ? reject(error) : resolve()))
    )
  })
