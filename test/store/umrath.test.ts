// The Umrath client against behaviours our own server does not show: a strict Umrath-like server
// (refuses a whole batch for one duplicate, no global positions, empty 2xx bodies), failures,
// Retry-After, stalls, refused connections; the merge order; the checkpoint file.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Option, Stream } from "effect"
import type { Scope } from "effect"
import { readFileSync, writeFileSync, readdirSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import type { NewEvent, StoredEvent, StreamRef } from "../../src/events/envelope.js"
import { EventStore } from "../../src/store/event-store.js"
import type { StoreError } from "../../src/store/event-store.js"
import { UmrathEventStore, mergeOrder } from "../../src/store/umrath.js"
import type { UmrathConfig } from "../../src/store/umrath.js"
import { fastRetry, scopedTempDir } from "../support/store-server.js"

interface Seen {
  readonly method: string
  readonly rawPath: string
  readonly headers: Http.IncomingHttpHeaders
}

type Reply = (req: Http.IncomingMessage, body: string, res: Http.ServerResponse) => void

/** A loopback HTTP server answering with `reply`; records every request. */
const startServer = (reply: Reply): Effect.Effect<{ url: string; seen: Array<Seen> }, never, Scope.Scope> =>
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

/** An Umrath as strict as the real one may be: one existing id refuses the whole batch. */
const strictUmrath = () => {
  const streams = new Map<string, Array<Record<string, unknown>>>()
  const ids = new Set<string>()
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
      for (const e of events) {
        ids.add(e.event_id)
        list.push({ ...e, position: list.length + 1, recorded_at: "2024-06-01T00:00:00Z", umrath_extra: 1 })
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
    send(404, { message: "no route" })
  }
  return { reply, streams }
}

const event = (id: string, scanned_at?: string): NewEvent => ({
  event_id: id,
  event_type: "TestEvent",
  payload: scanned_at === undefined ? { n: id } : { n: id, scanned_at },
  metadata: { source: "test" },
})

const ref = (aggregate_type: string, aggregate_id: string): StreamRef => ({ bucket: "recon-scan", aggregate_type, aggregate_id })

const collect = (s: Stream.Stream<StoredEvent, StoreError>) => Effect.map(Stream.runCollect(s), Chunk.toReadonlyArray)

/** Run `f` with an Umrath client for `url`; checkpoints in a temp dir. */
const withClient = <A, E>(url: string, config: UmrathConfig, f: Effect.Effect<A, E, EventStore>) =>
  Effect.gen(function* () {
    const dir = yield* scopedTempDir("xmon-umrath-client-")
    return yield* Effect.provide(
      f,
      UmrathEventStore.layer({ url, checkpointFile: join(dir, "cp.json"), retry: fastRetry, ...config }),
    )
  })

describe("UmrathEventStore against a strict Umrath", () => {
  it.scopedLive("re-sends a refused batch one by one: nothing lost, duplicates counted", () =>
    Effect.gen(function* () {
      const umrath = strictUmrath()
      const server = yield* startServer(umrath.reply)
      const s = ref("DomainScan", "nic.cz")
      yield* withClient(
        server.url,
        {},
        Effect.gen(function* () {
          const store = yield* EventStore
          expect(yield* store.append(s, [event("a"), event("b")])).toEqual({ stored: 2, duplicates: 0 })
          // "b" exists, so the strict server refuses the batch; "c" and "d" must still get in.
          expect(yield* store.append(s, [event("c"), event("b"), event("d")])).toEqual({ stored: 2, duplicates: 1 })
          const read = yield* collect(store.readStream(s, 0))
          expect(read.map((e) => [e.event_id, e.position])).toEqual([
            ["a", 1],
            ["b", 2],
            ["c", 3],
            ["d", 4],
          ])
          expect(read[0]!.recorded_at).toBe("2024-06-01T00:00:00Z")
        }),
      )
    }))

  it.scopedLive("sends X-Caller and the token, URL-encodes path segments, reads 404 as empty", () =>
    Effect.gen(function* () {
      const umrath = strictUmrath()
      const server = yield* startServer(umrath.reply)
      const s = ref("TlsScan", "a b/c?d#e")
      yield* withClient(
        server.url + "/prefix",
        { project: "my proj", caller: "xmon-test", token: "sekrit" },
        Effect.gen(function* () {
          const store = yield* EventStore
          expect(yield* collect(store.readStream(s, 0))).toEqual([])
          yield* store.append(s, [event("x")])
          expect((yield* collect(store.readStream(s, 0))).map((e) => e.event_id)).toEqual(["x"])
        }),
      )
      expect(server.seen.map((r) => `${r.method} ${r.rawPath}`)).toEqual([
        "GET /prefix/v1/projects/my%20proj/streams/recon-scan/TlsScan/a%20b%2Fc%3Fd%23e/events?after_position=0&limit=500",
        "POST /prefix/v1/projects/my%20proj/streams/recon-scan/TlsScan/a%20b%2Fc%3Fd%23e/events:append",
        "GET /prefix/v1/projects/my%20proj/streams/recon-scan/TlsScan/a%20b%2Fc%3Fd%23e/events?after_position=0&limit=500",
      ])
      for (const r of server.seen) {
        expect(r.headers["x-caller"]).toBe("xmon-test")
        expect(r.headers["authorization"]).toBe("Bearer sekrit")
      }
    }))

  it.scopedLive("pages until a short page and merges supplied streams by scanned_at, type, id, position", () =>
    Effect.gen(function* () {
      const umrath = strictUmrath()
      const server = yield* startServer(umrath.reply)
      const big = ref("TlsScan", "big")
      const dom = ref("DomainScan", "d")
      const host = ref("HostnameScan", "h")
      yield* withClient(
        server.url,
        { streams: () => Effect.succeed([host, big, dom, big]) },
        Effect.gen(function* () {
          const store = yield* EventStore
          // 1000 events: exactly two full pages, then an empty third page ends it.
          const bigEvents = Array.from({ length: 1000 }, (_, i) =>
            event(`big-${i}`, `2024-05-0${1 + (i % 3)}T00:00:00Z`),
          )
          yield* store.append(big, bigEvents)
          yield* store.append(dom, [event("dom-1", "2024-05-02T00:00:00Z"), event("dom-0")])
          yield* store.append(host, [event("host-1", "2024-05-02T00:00:00+00:00")])

          const all = yield* collect(store.readBucket("recon-scan", 0))
          expect(all.length).toBe(1003)
          expect(all.map((e) => e.global_position)).toEqual(Array.from({ length: 1003 }, (_, i) => i + 1))
          // Missing scanned_at first; then by time; within a time DomainScan < HostnameScan < TlsScan.
          expect(all[0]!.event_id).toBe("dom-0")
          const may2 = all.filter((e) => e.payload["scanned_at"]?.toString().startsWith("2024-05-02"))
          expect(may2.slice(0, 2).map((e) => e.event_id)).toEqual(["dom-1", "host-1"])
          const bigOrder = all.filter((e) => e.aggregate_id === "big")
          const expected = [...bigEvents.keys()].sort((a, b) => (a % 3) - (b % 3) || a - b).map((i) => `big-${i}`)
          expect(bigOrder.map((e) => e.event_id)).toEqual(expected)
          expect((yield* collect(store.readBucket("recon-scan", 1000))).map((e) => e.global_position)).toEqual([
            1001, 1002, 1003,
          ])

          expect(yield* store.listStreams("recon-scan")).toEqual([
            { ...dom, length: 2 },
            { ...host, length: 1 },
            { ...big, length: 1000 },
          ])
        }),
      )
      const bigReads = server.seen.filter((r) => r.method === "GET" && r.rawPath.includes("/big/"))
      // Each full read of `big` takes three pages (500, 500, 0): two readBuckets and listStreams.
      expect(bigReads.length).toBe(9)
    }))

  it("mergeOrder is deterministic whatever order the streams arrive in", () => {
    const at = (id: string, type: string, position: number, scanned_at?: string): StoredEvent => ({
      bucket: "b",
      aggregate_type: type,
      aggregate_id: id,
      event_id: `${type}/${id}/${position}`,
      event_type: "T",
      payload: scanned_at === undefined ? {} : { scanned_at },
      metadata: {},
      position,
      global_position: 0,
      recorded_at: "",
    })
    const events = [
      at("b", "TlsScan", 2, "2024-01-01T00:00:00Z"),
      at("a", "TlsScan", 1, "2024-01-01T00:00:00Z"),
      at("z", "DomainScan", 1, "2024-01-01T01:00:00+01:00"),
      at("a", "TlsScan", 2, "not a date"),
      at("b", "TlsScan", 1, "2024-01-01T00:00:00Z"),
    ]
    const ids = (xs: ReadonlyArray<StoredEvent>) => xs.map((e) => e.event_id)
    const expected = ["TlsScan/a/2", "DomainScan/z/1", "TlsScan/a/1", "TlsScan/b/1", "TlsScan/b/2"]
    expect(ids(mergeOrder(events))).toEqual(expected)
    expect(ids(mergeOrder([...events].reverse()))).toEqual(expected)
    expect(mergeOrder(events).map((e) => e.global_position)).toEqual([1, 2, 3, 4, 5])
    // With the server's own order on every event, that order wins.
    expect(ids(mergeOrder(events, [5, 4, 3, 2, 1]))).toEqual(ids([...events].reverse()))
  })
})

describe("UmrathEventStore failures", () => {
  it.scopedLive("retries 503 and 429, waiting as long as Retry-After asks", () =>
    Effect.gen(function* () {
      let calls = 0
      const server = yield* startServer((_req, _body, res) => {
        calls++
        if (calls === 1) {
          res.writeHead(503, { "retry-after": "1" })
          return res.end("busy")
        }
        if (calls === 2) {
          res.writeHead(429)
          return res.end()
        }
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ stored: 1, duplicates: 0 }))
      })
      const started = performance.now()
      const result = yield* withClient(
        server.url,
        {},
        Effect.flatMap(EventStore, (s) => s.append(ref("DomainScan", "x"), [event("e")])),
      )
      expect(result).toEqual({ stored: 1, duplicates: 0 })
      expect(calls).toBe(3)
      expect(performance.now() - started).toBeGreaterThanOrEqual(990)
    }))

  it.scopedLive("fails at once on another 4xx, with the server's message", () =>
    Effect.gen(function* () {
      const server = yield* startServer((_req, _body, res) => {
        res.writeHead(422, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: { code: "invalid_body", message: "events[0].payload is missing" } }))
      })
      const error = yield* withClient(
        server.url,
        {},
        Effect.flatMap(EventStore, (s) => s.append(ref("DomainScan", "x"), [event("e")])),
      ).pipe(Effect.flip)
      expect(server.seen.length).toBe(1)
      expect(error.transient).toBe(false)
      expect(error.message).toContain("HTTP 422: invalid_body: events[0].payload is missing")
    }))

  it.scopedLive("a stalled server fails as transient within the request timeout and retries", () =>
    Effect.gen(function* () {
      const server = yield* startServer(() => {
        // never answer
      })
      const started = performance.now()
      const error = yield* withClient(
        server.url,
        { requestTimeout: "200 millis", retry: { ...fastRetry, maxRetries: 2 } },
        Effect.flatMap(EventStore, (s) => collect(s.readStream(ref("DomainScan", "x"), 0))),
      ).pipe(Effect.flip)
      const elapsed = performance.now() - started
      expect(error.transient).toBe(true)
      expect(error.message).toContain("no answer within")
      expect(server.seen.length).toBe(3)
      expect(elapsed).toBeLessThan(3_000)
    }))

  it.scopedLive("a refused connection fails as transient after the retries", () =>
    Effect.gen(function* () {
      // A port that was free a moment ago: take one, close it, connect there.
      const closed = yield* Effect.async<number>((resume) => {
        const s = Http.createServer()
        s.listen(0, "127.0.0.1", () => {
          const { port } = s.address() as AddressInfo
          s.close(() => resume(Effect.succeed(port)))
        })
      })
      const error = yield* withClient(
        `http://127.0.0.1:${closed}`,
        { retry: { ...fastRetry, maxRetries: 2 } },
        Effect.flatMap(EventStore, (s) => s.append(ref("DomainScan", "x"), [event("e")])),
      ).pipe(Effect.flip)
      expect(error.transient).toBe(true)
      expect(error.message).toContain("ECONNREFUSED")
    }))

  it.scopedLive("listStreams without supplied streams says why on a real Umrath", () =>
    Effect.gen(function* () {
      const umrath = strictUmrath()
      const server = yield* startServer(umrath.reply)
      const error = yield* withClient(
        server.url,
        {},
        Effect.flatMap(EventStore, (s) => s.listStreams("recon-scan")),
      ).pipe(Effect.flip)
      expect(error.transient).toBe(false)
      expect(error.message).toContain("supply them from the inventory pages")
    }))
})

describe("checkpoint file", () => {
  it.scopedLive("saves atomically as one JSON object and reads the original's number values", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir("xmon-cp-")
      const file = join(dir, "sub", "cp.json")
      const layer = UmrathEventStore.layer({ url: "http://127.0.0.1:9", checkpointFile: file })
      yield* Effect.gen(function* () {
        const store = yield* EventStore
        expect(yield* store.loadCheckpoint("evaluate")).toEqual(Option.none())
        yield* store.saveCheckpoint({ name: "evaluate", value: "12" })
        yield* store.appendBatch([], [{ name: "other", value: '{"a":1}' }])
        expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ evaluate: "12", other: '{"a":1}' })
        // No temporary file is left behind.
        expect(readdirSync(join(dir, "sub"))).toEqual(["cp.json"])
        writeFileSync(file, JSON.stringify({ "recon-scan/DomainScan/a": 7 }))
        expect(yield* store.loadCheckpoint("recon-scan/DomainScan/a")).toEqual(Option.some("7"))
        writeFileSync(file, "not json")
        const error = yield* Effect.flip(store.loadCheckpoint("x"))
        expect(error.message).toContain(file)
      }).pipe(Effect.provide(layer))
    }))
})
