/** DataHub's live feed through nginx's WebSocket upgrade, spoken with the contract's schemas. */
import { LiveClientMessage, LiveServerMessage } from "@quasar/domain"
import { Schema } from "effect"
import { expect } from "vitest"
import { WebSocket } from "ws"
import { within } from "../../support/processes"
import type { Stack } from "../support/stack"
import { SERIES } from "./subscriptions"

const encode = Schema.encodeSync(Schema.parseJson(LiveClientMessage))
const decode = Schema.decodeUnknownSync(Schema.parseJson(LiveServerMessage))

export const liveFeedAnswersThroughNginx = async ({ url }: Stack) => {
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/api/datahub/live`)
  const received: Array<LiveServerMessage> = []
  const waitFor = (tag: LiveServerMessage["_tag"]) =>
    within(
      20_000,
      `a ${tag} message`,
      new Promise<void>((resolve) => {
        const check = () => (received.some((m) => m._tag === tag) ? resolve() : setTimeout(check, 50))
        check()
      })
    )
  try {
    await within(
      10_000,
      "WebSocket upgrade through nginx",
      new Promise((resolve, reject) => {
        socket.once("open", resolve)
        socket.once("unexpected-response", (_req, res) =>
          reject(new Error(`upgrade refused: HTTP ${res.statusCode}`))
        )
        socket.once("error", reject)
      })
    )
    socket.on("message", (data) => received.push(decode(String(data))))
    socket.send(encode({ _tag: "ping", id: 7 }))
    await waitFor("pong")
    expect(received.find((m) => m._tag === "pong")).toEqual({ _tag: "pong", id: 7 })
    socket.send(encode(Schema.decodeUnknownSync(LiveClientMessage)({ _tag: "subscribe", ...SERIES })))
    await waitFor("subscribed")
    await waitFor("bar")
  } finally {
    socket.close()
  }
}
