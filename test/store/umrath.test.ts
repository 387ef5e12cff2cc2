// The Umrath client against behaviours our own server does not show: a strict Umrath-like server
// (refuses a whole batch for one duplicate, no global positions, empty 2xx bodies), failures,
// Retry-After, stalls, refused connections; the merge order; the checkpoint file.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Either, Exit, Logger, Option, Stream } from "effect"
import type { Scope } from "effect"
import { readFileSync, writeFileSync, readdirSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { Pool } from "undici"
import { CHECKPOINT_NAME } from "../../src/evaluate/checkpoint.js"
import { rules } from "../../src/evaluate/rules/index.js"
import { runEvaluation } from "../../src/evaluate/runner.js"
import type { NewEvent, StoredEvent, StreamRef } from "../../src/events/envelope.js"
import { EventStore } from "../../src/store/event-store.js"
import type { StoreError } from "../../src/store/event-store.js"
import { UmrathEventStore, closePool, mergeOrder } from "../../src/store/umrath.js"
import type { UmrathConfig } from "../../src/store/umrath.js"
import { fastRetry, scopedTempDir, startServer, strictUmrath } from "../support/store-server.js"

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

/** Warnings logged while `f` runs, as text. */
const withWarnings = <A, E, R>(f: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const warnings: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Warning") warnings.push(Array.isArray(message) ? message.join(" ") : String(message))
    })
    return Effect.map(
      Effect.provide(f, Logger.replace(Logger.defaultLogger, logger)),
      (a) => [a, warnings] as const,
    )
  })

describe("checkpoint file", () => {
  it.scopedLive("saves atomically as one JSON object naming its store, and reads the original's number values", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir("xmon-cp-")
      const file = join(dir, "sub", "cp.json")
      const layer = UmrathEventStore.layer({ url: "http://127.0.0.1:9", checkpointFile: file })
      yield* Effect.gen(function* () {
        const store = yield* EventStore
        expect(store.describe).toBe("umrath:http://127.0.0.1:9 (project ezop)")
        expect(yield* store.loadCheckpoint("evaluate")).toEqual(Option.none())
        yield* store.saveCheckpoint({ name: "evaluate", value: "12" })
        yield* store.appendBatch([], [{ name: "other", value: '{"a":1}' }])
        expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
          $store: store.describe,
          evaluate: "12",
          other: '{"a":1}',
        })
        // No temporary file is left behind.
        expect(readdirSync(join(dir, "sub"))).toEqual(["cp.json"])
        // An older file, without the store's name, is accepted.
        writeFileSync(file, JSON.stringify({ "recon-scan/DomainScan/a": 7 }))
        expect(yield* store.loadCheckpoint("recon-scan/DomainScan/a")).toEqual(Option.some("7"))
      }).pipe(Effect.provide(layer))
    }))

  it.scopedLive("a file that is not a JSON object is handed to the evaluator, which asks for --replay; --replay overwrites it", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir("xmon-cp-")
      const file = join(dir, "cp.json")
      const server = yield* startServer(strictUmrath().reply)
      const layer = UmrathEventStore.layer({
        url: server.url,
        checkpointFile: file,
        retry: fastRetry,
        streams: () => Effect.succeed([]),
      })
      for (const damaged of ["not json", "[1,2]", ""]) {
        writeFileSync(file, damaged)
        const store = yield* Effect.provide(EventStore, layer)
        expect(yield* Effect.provide(store.loadCheckpoint(CHECKPOINT_NAME), layer)).toEqual(Option.some(damaged))
        const refused = yield* Effect.flip(Effect.provide(runEvaluation({ rules }), layer))
        expect(refused._tag).toBe("CheckpointError")
        expect(refused.message).toContain("xmon evaluate --replay")
        expect(readFileSync(file, "utf8")).toBe(damaged)

        const [summary, warnings] = yield* withWarnings(Effect.provide(runEvaluation({ rules, replay: true }), layer))
        expect(summary.mode).toBe("replay")
        expect(warnings.some((w) => w.includes(file) && w.includes("not a JSON object"))).toBe(true)
        const saved = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>
        expect(saved["$store"]).toBe(store.describe)
        expect(JSON.parse(saved[CHECKPOINT_NAME]!).format).toBe("xmon.evaluate.checkpoint")
        // And the next, ordinary run resumes from it.
        expect((yield* Effect.provide(runEvaluation({ rules }), layer)).mode).toBe("incremental")
      }
    }))

  it.scopedLive("a file written for another store or project is refused, until --replay takes it over", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir("xmon-cp-")
      const file = join(dir, "cp.json")
      const first = yield* startServer(strictUmrath().reply)
      const second = yield* startServer(strictUmrath().reply)
      const client = (url: string, project?: string) =>
        UmrathEventStore.layer({
          url,
          checkpointFile: file,
          retry: fastRetry,
          streams: () => Effect.succeed([]),
          ...(project === undefined ? {} : { project }),
        })
      const describeOf = (layer: ReturnType<typeof client>) =>
        Effect.map(Effect.provide(EventStore, layer), (s) => s.describe)

      expect((yield* Effect.provide(runEvaluation({ rules }), client(first.url))).mode).toBe("full")
      // The same store written another way is the same store.
      expect((yield* Effect.provide(runEvaluation({ rules }), client(`${first.url}/`))).mode).toBe("incremental")

      for (const other of [client(second.url), client(first.url, "other-project")]) {
        const error = yield* Effect.flip(Effect.provide(runEvaluation({ rules }), other))
        expect(error._tag).toBe("StoreError")
        expect(error.message).toContain(yield* describeOf(client(first.url)))
        expect(error.message).toContain(yield* describeOf(other))
        expect(error.message).toContain("EZRECON_EVAL_CHECKPOINT")
        expect(error.message).toContain("--replay")
      }

      const [summary, warnings] = yield* withWarnings(
        Effect.provide(runEvaluation({ rules, replay: true }), client(second.url)),
      )
      expect(summary.mode).toBe("replay")
      expect(warnings.some((w) => w.includes(file) && w.includes("taking it over"))).toBe(true)
      expect(JSON.parse(readFileSync(file, "utf8"))["$store"]).toBe(yield* describeOf(client(second.url)))
      expect((yield* Effect.provide(runEvaluation({ rules }), client(second.url))).mode).toBe("incremental")
      // Now the first store's runs are the ones refused.
      const refused = yield* Effect.flip(Effect.provide(runEvaluation({ rules }), client(first.url)))
      expect(refused._tag).toBe("StoreError")
    }))
})

describe("UmrathEventStore on a server without our extensions", () => {
  const s1 = ref("DomainScan", "a")
  const s2 = ref("HostnameScan", "b")
  const batch = [
    { stream: s1, event: event("e1", "2024-05-01T00:00:00Z") },
    { stream: s2, event: event("e2", "2024-05-02T00:00:00Z") },
    { stream: s1, event: event("e3", "2024-05-03T00:00:00Z") },
  ]

  it.scopedLive("a batch append answered 400, 401, 403, 404, 405 or 501 falls back to per-stream appends", () =>
    Effect.gen(function* () {
      for (const status of [400, 401, 403, 404, 405, 501]) {
        const server = yield* startServer(strictUmrath({ unknownStatus: status }).reply)
        const batchCalls = () => server.seen.filter((r) => r.rawPath.endsWith("events:appendBatch")).length
        yield* withClient(
          server.url,
          {},
          Effect.gen(function* () {
            const store = yield* EventStore
            expect(yield* store.appendBatch(batch)).toEqual({ stored: 3, duplicates: 0 })
            expect(yield* store.appendBatch([{ stream: s2, event: event("e4") }, ...batch])).toEqual({
              stored: 1,
              duplicates: 3,
            })
            const ids = (s: StreamRef) => Effect.map(collect(store.readStream(s, 0)), (es) => es.map((e) => e.event_id))
            expect([yield* ids(s1), yield* ids(s2)]).toEqual([["e1", "e3"], ["e2", "e4"]])
          }),
        )
        // Remembered, except a 401, which may be about the token rather than the path.
        expect(batchCalls()).toBe(status === 401 ? 2 : 1)
      }
    }))

  it.scopedLive("once the batch extension has worked, a 400 from it is a real error", () =>
    Effect.gen(function* () {
      let calls = 0
      const server = yield* startServer((_req, _body, res) => {
        calls++
        res.writeHead(calls === 1 ? 200 : 400, { "content-type": "application/json" })
        res.end(
          calls === 1
            ? JSON.stringify({ stored: 3, duplicates: 0 })
            : JSON.stringify({ error: { code: "invalid_body", message: "bad event" } }),
        )
      })
      const error = yield* withClient(
        server.url,
        {},
        Effect.gen(function* () {
          const store = yield* EventStore
          expect(yield* store.appendBatch(batch)).toEqual({ stored: 3, duplicates: 0 })
          return yield* Effect.flip(store.appendBatch(batch))
        }),
      )
      expect(error.message).toContain("HTTP 400: invalid_body: bad event")
      expect(server.seen.map((r) => r.rawPath.split("/").at(-1))).toEqual(["events:appendBatch", "events:appendBatch"])
    }))

  it.scopedLive("the stream listing: no listing reads as none, any other failure fails the read", () =>
    Effect.gen(function* () {
      const outcome = (listingStatus: number) =>
        Effect.gen(function* () {
          const umrath = strictUmrath()
          const server = yield* startServer((req, body, res) => {
            if (req.method === "GET" && req.url?.endsWith("/streams/recon-scan")) {
              res.writeHead(listingStatus, { "content-type": "application/json" })
              return res.end(JSON.stringify({ error: { code: "x", message: `listing answered ${listingStatus}` } }))
            }
            umrath.reply(req, body, res)
          })
          return yield* withClient(
            server.url,
            { streams: () => Effect.succeed([s1, s2]), retry: { ...fastRetry, maxRetries: 2 } },
            Effect.gen(function* () {
              const store = yield* EventStore
              yield* store.appendBatch(batch)
              return yield* Effect.either(collect(store.readBucket("recon-scan", 0)))
            }),
          )
        })
      for (const status of [400, 404, 405, 501]) {
        const read = yield* outcome(status)
        expect(Either.map(read, (es) => es.map((e) => e.event_id))).toEqual(Either.right(["e1", "e2", "e3"]))
      }
      for (const status of [401, 403, 500, 503]) {
        const read = yield* outcome(status)
        expect(Either.isLeft(read)).toBe(true)
        if (Either.isLeft(read)) {
          expect(read.left.message).toContain(`listing answered ${status}`)
          expect(read.left.transient).toBe(status >= 500)
        }
      }
    }))
})

describe("the pool's finalizer", () => {
  it.live("never fails, even when the pool refuses to close", () =>
    Effect.gen(function* () {
      const pool = new Pool("http://127.0.0.1:9")
      yield* Effect.promise(() => pool.destroy())
      // A destroyed pool's close() rejects; closing must still succeed.
      const rejected = yield* Effect.either(Effect.tryPromise(() => pool.close()))
      expect(Either.isLeft(rejected)).toBe(true)
      const exit = yield* Effect.exit(closePool(pool))
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(pool.destroyed).toBe(true)
    }))
})
