// A `xmon store serve` over a fresh SQLite file in a temporary directory, on a free loopback port,
// for as long as the scope lives; and an Umrath client layer pointed at it.
import { Effect, Layer } from "effect"
import type { Scope } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { NewEvent, StreamRef } from "../../src/events/envelope.js"
import { EventStore, StoreError } from "../../src/store/event-store.js"
import type { RetryPolicy } from "../../src/store/retry.js"
import { serveStore } from "../../src/store/server.js"
import type { StoreServerOptions } from "../../src/store/server.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { UmrathEventStore } from "../../src/store/umrath.js"
import type { UmrathConfig } from "../../src/store/umrath.js"

/** Short waits so that tests of failure paths end quickly. */
export const fastRetry: Partial<RetryPolicy> = { baseMillis: 5, capMillis: 50, maxRetries: 8, maxRetryAfterMillis: 2_000 }

export const scopedTempDir = (prefix: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
  )

const asStoreError = (cause: unknown) =>
  new StoreError({ store: "test-server", operation: "serve", message: String(cause), transient: false, cause })

export interface TestServer {
  readonly url: string
  readonly dir: string
  readonly dbPath: string
  /** The server's own store, for looking behind its back. */
  readonly direct: Layer.Layer<EventStore>
}

/** Server over `dir/events.db` (a new temp dir unless given), port 0 on 127.0.0.1. */
export const startTestServer = (
  options: StoreServerOptions & { readonly dir?: string } = {},
): Effect.Effect<TestServer, StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const dir = options.dir ?? (yield* scopedTempDir("xmon-store-server-"))
    const dbPath = join(dir, "events.db")
    const context = yield* Layer.build(SqliteEventStore.layer(dbPath))
    const server = yield* serveStore({ port: 0, ...options }).pipe(
      Effect.provide(context),
      Effect.mapError(asStoreError),
    )
    return { url: server.url, dir, dbPath, direct: Layer.succeedContext(context) }
  })

/** A fresh server and an Umrath client on it, both living as long as the layer. */
export const umrathOverTestServer = (config: UmrathConfig = {}): Layer.Layer<EventStore, StoreError> =>
  Layer.unwrapScoped(
    Effect.map(startTestServer(), (server) =>
      UmrathEventStore.layer({
        url: server.url,
        checkpointFile: join(server.dir, "checkpoint.json"),
        retry: fastRetry,
        ...config,
      }),
    ),
  )

/** A request as a fake server saw it. */
export interface Seen {
  readonly method: string
  readonly rawPath: string
  readonly headers: Http.IncomingHttpHeaders
}

export type Reply = (req: Http.IncomingMessage, body: string, res: Http.ServerResponse) => void

/** A loopback HTTP server answering with `reply`; records every request. */
export const startServer = (reply: Reply): Effect.Effect<{ url: string; seen: Array<Seen> }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ url: string; seen: Array<Seen>; server: Http.Server }>((resume) => {
      const seen: Array<Seen> = []
      const server = Http.createServer((req, res) => {
        seen.push({ method: req.method ?? "", rawPath: req.url ?? "", headers: req.headers })
        let body = ""
        req.setEncoding("utf8")
        req.on("data", (c: string) => (body += c))
        req.on("end", () => reply(req, body, res))
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server })),
      )
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      }),
  )

export interface StoredByFake {
  readonly stream: StreamRef
  readonly event: NewEvent
}

/**
 * An Umrath as strict as the real one may be: one existing id refuses the whole batch with 409, no
 * `global_position`, an empty 2xx body, fields of its own, and `unknownStatus` (default 404) for
 * any path it does not know (the listing and batch extensions of our server among them).
 */
export const strictUmrath = (options: { readonly unknownStatus?: number } = {}) => {
  const streams = new Map<string, Array<Record<string, unknown>>>()
  const ids = new Set<string>()
  /** Every event stored, in the order it was stored, with its stream. */
  const log: Array<StoredByFake> = []
  const reply: Reply = (req, body, res) => {
    const [path = "", query = ""] = (req.url ?? "").split("?")
    const send = (status: number, json?: unknown) => {
      res.writeHead(status, { "content-type": "application/json" })
      res.end(json === undefined ? "" : JSON.stringify(json))
    }
    if (req.method === "POST" && path.endsWith("/events:append")) {
      const key = path.slice(0, -"/events:append".length)
      const events = (JSON.parse(body) as { events: Array<NewEvent> }).events
      if (events.some((e) => ids.has(e.event_id))) return send(409, { message: "event exists" })
      const list = streams.get(key) ?? []
      const [bucket = "", aggregate_type = "", aggregate_id = ""] = key.split("/").slice(-3).map(decodeURIComponent)
      for (const e of events) {
        ids.add(e.event_id)
        list.push({ ...e, position: list.length + 1, recorded_at: "2024-06-01T00:00:00Z", umrath_extra: 1 })
        log.push({ stream: { bucket, aggregate_type, aggregate_id }, event: e })
      }
      streams.set(key, list)
      return send(201)
    }
    if (req.method === "GET" && path.endsWith("/events")) {
      const list = streams.get(path.slice(0, -"/events".length))
      if (!list) return send(404, { message: "no stream" })
      const params = new URLSearchParams(query)
      const after = Number(params.get("after_position"))
      const limit = Number(params.get("limit"))
      const page = list.slice(after, after + limit)
      return send(200, { events: page, next_position: after + page.length })
    }
    send(options.unknownStatus ?? 404, { message: "no route" })
  }
  return { reply, streams, log }
}
