// `xmon store serve` input checking: every bad request gets its 4xx with a JSON error body and
// leaves the store as it was; the token; the duplicate rules of append; the read page.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Option, Stream } from "effect"
import type { Scope } from "effect"
import * as Http from "node:http"
import { parseListen } from "../../src/cli/serve.js"
import { EventStore } from "../../src/store/event-store.js"
import type { StoreServerOptions } from "../../src/store/server.js"
import { startTestServer } from "../support/store-server.js"
import type { TestServer } from "../support/store-server.js"

interface Answer {
  readonly status: number
  readonly json: unknown
  readonly headers?: Http.IncomingHttpHeaders
}

/** A request with the path sent byte for byte (fetch and URL would normalise `..` away). */
const request = (
  url: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Effect.Effect<Answer> =>
  Effect.async<Answer>((resume) => {
    const target = new URL(url)
    const req = Http.request(
      { host: target.hostname, port: target.port, method, path, headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (c: string) => (text += c))
        res.on("end", () => {
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {
            json = text
          }
          resume(Effect.succeed({ status: res.statusCode ?? 0, json, headers: res.headers }))
        })
      },
    )
    // The server may answer (413) and close before the whole body is sent.
    req.on("error", (e) => resume(Effect.succeed({ status: -1, json: String(e) })))
    // A Buffer goes chunked (no Content-Length), so the limit is enforced while reading.
    if (Buffer.isBuffer(body)) {
      req.setHeader("transfer-encoding", "chunked")
      for (let i = 0; i < body.length; i += 1024) req.write(body.subarray(i, i + 1024))
      req.end()
    } else req.end(body)
  }).pipe(Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`${method} ${path} timed out`) }), Effect.orDie)

const base = "/v1/projects/ezop/streams/recon-scan"
const appendTo = (type: string, id: string) => `${base}/${type}/${id}/events:append`
const ev = (id: string) => ({ event_id: id, event_type: "DomainScanResult", payload: { n: 1 }, metadata: { source: "t" } })
const body = (...ids: Array<string>) => JSON.stringify({ events: ids.map(ev) })

/** Everything the server's store holds, in its order. */
const contents = (server: TestServer) =>
  Effect.flatMap(EventStore, (store) =>
    Effect.map(Stream.runCollect(store.readBucket("recon-scan", 0)), (c) => Chunk.toReadonlyArray(c).map((e) => e.event_id)),
  ).pipe(Effect.provide(server.direct))

const withServer = <A, E>(
  options: StoreServerOptions,
  f: (server: TestServer) => Effect.Effect<A, E, Scope.Scope>,
) => Effect.flatMap(startTestServer(options), f)

const plain = (a: Answer) => ({ status: a.status, json: a.json })

const errorCode = (a: Answer) => (a.json as { error?: { code?: string } }).error?.code

describe("store server input checks", () => {
  it.scopedLive("refuses each bad request with a 4xx JSON error and changes nothing", () =>
    withServer({ maxBodyBytes: 4096 }, (server) =>
      Effect.gen(function* () {
        yield* request(server.url, "POST", appendTo("DomainScan", "keep"), body("e0"))
        const cases: ReadonlyArray<[string, string, string | Buffer | undefined, number, string]> = [
          ["POST", appendTo("DomainScan", "a"), "{not json", 400, "malformed_json"],
          ["POST", appendTo("DomainScan", "a"), "", 400, "malformed_json"],
          ["POST", appendTo("DomainScan", "a"), JSON.stringify({}), 400, "invalid_body"],
          ["POST", appendTo("DomainScan", "a"), JSON.stringify({ events: [{ event_id: "x", payload: {}, metadata: {} }] }), 400, "invalid_body"],
          ["POST", appendTo("DomainScan", "a"), JSON.stringify({ events: [{ ...ev("x"), payload: "text" }] }), 400, "invalid_body"],
          ["POST", appendTo("DomainScan", "a"), JSON.stringify({ events: [ev("")] }), 400, "invalid_body"],
          ["POST", appendTo("DomainScan", "a"), JSON.stringify({ events: [ev("x"), 7] }), 400, "invalid_body"],
          ["POST", appendTo("DomainScan", "a"), JSON.stringify({ events: [ev("x"), { pad: "y".repeat(5000) }] }), 413, "body_too_large"],
          ["POST", appendTo("DomainScan", "a"), Buffer.from(JSON.stringify({ events: [ev("x"), { pad: "y".repeat(9000) }] })), 413, "body_too_large"],
          ["POST", appendTo("DomainScan", "ok"), Buffer.from("{ broken"), 400, "malformed_json"],
          ["POST", appendTo("DomainScan", ".."), body("x"), 400, "bad_path"],
          ["POST", `${base}/DomainScan/../../other/x/events:append`, body("x"), 400, "bad_path"],
          ["POST", appendTo("DomainScan", "%2e%2e"), body("x"), 400, "bad_path"],
          ["POST", appendTo("DomainScan", "a%2Fb"), body("x"), 400, "bad_path"],
          ["POST", appendTo("DomainScan", "a%20b"), body("x"), 400, "bad_path"],
          ["POST", appendTo("DomainScan", "a%00"), body("x"), 400, "bad_path"],
          ["POST", appendTo("DomainScan", "%E0%A4%A"), body("x"), 400, "bad_path"],
          ["POST", appendTo("Domain%C5%A1can", "a"), body("x"), 400, "bad_path"],
          ["POST", `${base}//a/events:append`, body("x"), 400, "bad_path"],
          ["POST", "/v1/projects/other/streams/recon-scan/DomainScan/a/events:append", body("x"), 404, "unknown_project"],
          ["POST", `${base}/DomainScan/a/events:delete`, body("x"), 404, "not_found"],
          ["POST", "/v2/whatever", body("x"), 404, "not_found"],
          ["GET", appendTo("DomainScan", "a"), undefined, 405, "method_not_allowed"],
          ["DELETE", `${base}/DomainScan/keep/events`, undefined, 405, "method_not_allowed"],
          ["GET", `${base}/DomainScan/keep/events?after_position=-1`, undefined, 400, "bad_query"],
          ["GET", `${base}/DomainScan/keep/events?after_position=abc`, undefined, 400, "bad_query"],
          ["GET", `${base}/DomainScan/keep/events?limit=0`, undefined, 400, "bad_query"],
        ]
        for (const [method, path, payload, status, code] of cases) {
          const answer = yield* request(server.url, method, path, payload)
          expect({ path, payload: String(payload).slice(0, 60), status: answer.status, code: errorCode(answer) }).toEqual({
            path,
            payload: String(payload).slice(0, 60),
            status,
            code,
          })
          expect(typeof (answer.json as { error: { message: unknown } }).error.message).toBe("string")
        }
        expect(yield* contents(server)).toEqual(["e0"])
        const streams = yield* Effect.flatMap(EventStore, (s) => s.listStreams("recon-scan")).pipe(Effect.provide(server.direct))
        expect(streams.map((s) => s.aggregate_id)).toEqual(["keep"])
      }),
    ))

  it.scopedLive("with a token, requires Authorization: Bearer", () =>
    withServer({ token: "s3cret" }, (server) =>
      Effect.gen(function* () {
        const path = appendTo("DomainScan", "a")
        const none = yield* request(server.url, "POST", path, body("e1"))
        const wrong = yield* request(server.url, "POST", path, body("e1"), { authorization: "Bearer s3creT" })
        const basic = yield* request(server.url, "POST", path, body("e1"), { authorization: "Basic czNjcmV0" })
        const read = yield* request(server.url, "GET", `${base}/DomainScan/a/events`)
        expect([none, wrong, basic, read].map((a) => [a.status, errorCode(a)])).toEqual(
          Array.from({ length: 4 }, () => [401, "unauthorized"]),
        )
        expect(yield* contents(server)).toEqual([])
        const right = yield* request(server.url, "POST", path, body("e1"), { authorization: "Bearer s3cret" })
        expect(plain(right)).toEqual({ status: 200, json: { stored: 1, duplicates: 0 } })
        expect(yield* contents(server)).toEqual(["e1"])
      }),
    ))
})

describe("store server append and read", () => {
  it.scopedLive("stores a mixed batch's new events with counts; 409 only when all existed", () =>
    withServer({}, (server) =>
      Effect.gen(function* () {
        const path = appendTo("HostnameScan", "www.nic.cz")
        expect(plain(yield* request(server.url, "POST", path, body("a", "b")))).toEqual({ status: 200, json: { stored: 2, duplicates: 0 } })
        expect(plain(yield* request(server.url, "POST", path, body("b", "c")))).toEqual({ status: 200, json: { stored: 1, duplicates: 1 } })
        const all = yield* request(server.url, "POST", path, body("a", "c"))
        expect([all.status, errorCode(all), (all.json as { duplicates: number }).duplicates]).toEqual([409, "all_duplicates", 2])
        expect(plain(yield* request(server.url, "POST", path, body()))).toEqual({ status: 200, json: { stored: 0, duplicates: 0 } })
        expect(yield* contents(server)).toEqual(["a", "b", "c"])
      }),
    ))

  it.scopedLive("events:appendBatch takes many streams in one request, in order, all or nothing", () =>
    withServer({}, (server) =>
      Effect.gen(function* () {
        const path = "/v1/projects/ezop/events:appendBatch"
        const item = (type: string, id: string, eventId: string) => ({ bucket: "recon-scan", aggregate_type: type, aggregate_id: id, ...ev(eventId) })
        const batch = [item("DomainScan", "a", "x1"), item("HostnameScan", "h", "x2"), item("DomainScan", "a", "x3")]
        expect(plain(yield* request(server.url, "POST", path, JSON.stringify({ events: batch })))).toEqual({
          status: 200,
          json: { stored: 3, duplicates: 0 },
        })
        expect(plain(yield* request(server.url, "POST", path, JSON.stringify({ events: batch })))).toEqual({
          status: 200,
          json: { stored: 0, duplicates: 3 },
        })
        const unsafe = yield* request(server.url, "POST", path, JSON.stringify({ events: [item("DomainScan", "..", "y1")] }))
        expect([unsafe.status, errorCode(unsafe)]).toEqual([400, "bad_path"])
        const invalid = yield* request(server.url, "POST", path, JSON.stringify({ events: [item("DomainScan", "b", "y2"), { bucket: "recon-scan" }] }))
        expect([invalid.status, errorCode(invalid)]).toEqual([400, "invalid_body"])
        expect((yield* request(server.url, "GET", path)).status).toBe(405)
        expect((yield* request(server.url, "POST", "/v1/projects/other/events:appendBatch", JSON.stringify({ events: batch }))).status).toBe(404)
        const stored = yield* Effect.flatMap(EventStore, (s) => Stream.runCollect(s.readBucket("recon-scan", 0))).pipe(
          Effect.provide(server.direct),
        )
        expect(Chunk.toReadonlyArray(stored).map((e) => `${e.aggregate_type}/${e.aggregate_id}#${e.position}:${e.event_id}`)).toEqual([
          "DomainScan/a#1:x1",
          "HostnameScan/h#1:x2",
          "DomainScan/a#2:x3",
        ])
      }),
    ))

  it.scopedLive("reads pages of at most 500 with next_position; 404 for an empty stream", () =>
    withServer({}, (server) =>
      Effect.gen(function* () {
        const ids = Array.from({ length: 700 }, (_, i) => `id-${i}`)
        expect((yield* request(server.url, "POST", appendTo("TlsScan", "ipv4-10.0.0.1-443"), body(...ids))).status).toBe(200)
        const events = `${base}/TlsScan/ipv4-10.0.0.1-443/events`
        type Page = { events: Array<{ event_id: string; position: number; recorded_at: string }>; next_position: number }
        const first = yield* request(server.url, "GET", `${events}?after_position=0&limit=100000`)
        const page1 = first.json as Page
        expect([first.status, page1.events.length, page1.next_position]).toEqual([200, 500, 500])
        // A full page announces the next cursor in a header; a short one does not.
        expect(first.headers?.["x-next-position"]).toBe("500")
        expect(page1.events[0]).toMatchObject({ event_id: "id-0", position: 1, event_type: "DomainScanResult" })
        const second = yield* request(server.url, "GET", `${events}?after_position=500&limit=500`)
        const page2 = second.json as Page
        expect([page2.events.length, page2.next_position, page2.events.at(-1)?.event_id]).toEqual([200, 700, "id-699"])
        expect(second.headers?.["x-next-position"]).toBeUndefined()
        const past = yield* request(server.url, "GET", `${events}?after_position=700`)
        expect(plain(past)).toEqual({ status: 200, json: { events: [], next_position: 700 } })
        const empty = yield* request(server.url, "GET", `${base}/TlsScan/none/events?after_position=0&limit=500`)
        expect([empty.status, errorCode(empty)]).toEqual([404, "stream_not_found"])
        const listed = yield* request(server.url, "GET", base)
        expect(plain(listed)).toEqual({
          status: 200,
          json: { streams: [{ aggregate_type: "TlsScan", aggregate_id: "ipv4-10.0.0.1-443", length: 700 }] },
        })
      }),
    ))
})

describe("xmon store serve --listen", () => {
  it("reads HOST:PORT, [IPv6]:PORT, and refuses the rest", () => {
    expect(parseListen("127.0.0.1:8080")).toEqual(Option.some({ host: "127.0.0.1", port: 8080 }))
    expect(parseListen("[::1]:0")).toEqual(Option.some({ host: "::1", port: 0 }))
    expect(parseListen("localhost:65535")).toEqual(Option.some({ host: "localhost", port: 65535 }))
    for (const bad of ["8080", "127.0.0.1", "127.0.0.1:65536", "::1:80", "host:port", ":80", "[::1]"]) {
      expect(parseListen(bad)).toEqual(Option.none())
    }
  })
})
