// `serveCommand` run as the CLI would run it: listens where told, requires the token from the file.
import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer, Logger } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { serveCommand } from "../../src/cli/serve.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { scopedTempDir } from "../support/store-server.js"

describe("serveCommand", () => {
  it.scopedLive("serves the store at --listen and requires the --token-file token", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir("xmon-serve-cmd-")
      const tokenFile = join(dir, "token")
      writeFileSync(tokenFile, "t0ken\n")
      const announced = yield* Deferred.make<string>()
      // The command says where it listens in a log line; catch it to learn the port it got.
      const logger = Logger.make(({ message }) => {
        const text = Array.isArray(message) ? message.join(" ") : String(message)
        const url = /http:\/\/127\.0\.0\.1:\d+/.exec(text)?.[0]
        if (url) Deferred.unsafeDone(announced, Effect.succeed(url))
      })
      const run = Command.run(serveCommand, { name: "serve", version: "test" })
      const fiber = yield* run(["node", "serve", "--listen", "127.0.0.1:0", "--token-file", tokenFile]).pipe(
        Effect.provide(
          Layer.mergeAll(
            NodeContext.layer,
            SqliteEventStore.layer(join(dir, "events.db")),
            Logger.replace(Logger.defaultLogger, logger),
          ),
        ),
        Effect.fork,
      )
      const url = yield* Deferred.await(announced).pipe(Effect.timeout("10 seconds"))
      const path = `${url}/v1/projects/ezop/streams/recon-scan/DomainScan/nic.cz/events:append`
      const body = JSON.stringify({ events: [{ event_id: "e1", event_type: "DomainScanResult", payload: {}, metadata: {} }] })
      const post = (headers: Record<string, string>) =>
        Effect.promise(() =>
          fetch(path, { method: "POST", body, headers: { "content-type": "application/json", ...headers } }).then(
            async (r) => [r.status, await r.json()] as const,
          ),
        )
      expect((yield* post({}))[0]).toBe(401)
      expect(yield* post({ authorization: "Bearer t0ken" })).toEqual([200, { stored: 1, duplicates: 0 }])
      yield* Fiber.interrupt(fiber)
      // Stopped means stopped: the port no longer answers.
      const after = yield* Effect.promise(() => fetch(path, { method: "POST", body }).then(() => "answered", () => "refused"))
      expect(after).toBe("refused")
    }))

  it.scopedLive("refuses a --listen that is not HOST:PORT", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir("xmon-serve-cmd-")
      const run = Command.run(serveCommand, { name: "serve", version: "test" })
      const error = yield* run(["node", "serve", "--listen", "nowhere"]).pipe(
        Effect.provide(Layer.mergeAll(NodeContext.layer, SqliteEventStore.layer(join(dir, "events.db")))),
        Effect.flip,
      )
      expect(error).toMatchObject({ _tag: "UsageError" })
    }))
})
