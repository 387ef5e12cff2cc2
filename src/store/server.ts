// `xmon store serve`: the Umrath wire protocol (http-api.ts) over any EventStore, so several
// scanning machines can share one SQLite store, and so the Umrath client is tested over real HTTP.
//
// Routing is done by hand rather than with HttpRouter/HttpApi: the path must be checked segment by
// segment *before* any URL normalisation (`..`, `%2F`, odd characters are refused, not resolved),
// `events:append` holds a colon that routers read as a parameter, and every refusal must carry the
// same `{ error: { code, message } }` body. The body schemas are shared with the client.
//
// Answers:
//   POST …/events:append  200 { stored, duplicates }  (also for a mixed batch: the new events are
//                         stored, the existing ones counted); 409 { error: { code: "all_duplicates" } }
//                         when every event already existed; 400 bad JSON / fields; 413 too large.
//   GET  …/events         200 { events, next_position } (at most 500); 404 when the stream is empty.
//                         A full page also carries `X-Next-Position` (extension: lets a client prefetch).
//   GET  …/streams/{bucket}  200 { streams: [{ aggregate_type, aggregate_id, length }] } (extension).
//   401 without the right `Authorization: Bearer` when a token is set; 503/500 when the store fails.
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpServerError } from "@effect/platform"
import { NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import { Chunk, Effect, Either, ParseResult, Schema, Stream } from "effect"
import type { Scope } from "effect"
import { timingSafeEqual } from "node:crypto"
import * as Http from "node:http"
import type { Addressed, NewEvent, StoredEvent, StreamRef } from "../events/envelope.js"
import { EventStore } from "./event-store.js"
import type { StoreError } from "./event-store.js"
import { AppendBatchRequest, AppendRequest, NEXT_POSITION_HEADER, READ_PAGE_LIMIT, isSafeSegment } from "./http-api.js"
import { fastGuardKeepingExcess } from "../events/fast-guard.js"
import type { AppendResponse, ErrorBody, ListStreamsResponse, ReadResponse, WireEvent } from "./http-api.js"

export interface StoreServerOptions {
  /** Default 127.0.0.1: loopback unless told otherwise. */
  readonly host?: string
  /** Default 8080; 0 picks a free port (see the returned `url`). */
  readonly port?: number
  /** When set, every request needs `Authorization: Bearer <token>`. */
  readonly token?: string
  /** The one project this server answers for; others get 404. Default `ezop`. */
  readonly project?: string
  /** Largest request body accepted; default 10 MiB. */
  readonly maxBodyBytes?: number
}

export interface RunningStoreServer {
  readonly host: string
  readonly port: number
  /** `http://host:port`, ready for `UmrathEventStore.layer({ url })`. */
  readonly url: string
}

const DEFAULT_MAX_BODY = 10 * 1024 * 1024
const MAX_EVENT_ID = 256

const errorResponse = (status: number, code: string, message: string, extra: Record<string, unknown> = {}) =>
  HttpServerResponse.unsafeJson({ error: { code, message }, ...extra } satisfies ErrorBody, {
    status,
    ...(status === 401 ? { headers: { "www-authenticate": 'Bearer realm="xmon"' } } : {}),
    // The unread rest of a too-large body is not worth keeping the connection for.
    ...(status === 413 ? { headers: { connection: "close" } } : {}),
  })

/** A refusal, carried in the error channel until the handler turns it into a response. */
class Refusal {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
  ) {}
}

const refuse = (status: number, code: string, message: string) => Effect.fail(new Refusal(status, code, message))

const fromStoreError = (e: StoreError) =>
  new Refusal(e.transient ? 503 : 500, e.transient ? "store_unavailable" : "store_failed", e.message)

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Raw segments, each URL-decoded and checked; refused before anything is looked up. */
const pathSegments = (rawPath: string): Either.Either<ReadonlyArray<string>, Refusal> => {
  if (!rawPath.startsWith("/")) return Either.left(new Refusal(400, "bad_path", "path must start with /"))
  const raw = rawPath.slice(1).split("/")
  const out: Array<string> = []
  for (const segment of raw) {
    let decoded: string
    try {
      decoded = decodeURIComponent(segment)
    } catch {
      return Either.left(new Refusal(400, "bad_path", `malformed percent-encoding in path segment "${segment}"`))
    }
    // The last segment may be the verb `events:append`; every other one must be a safe name.
    if (!isSafeSegment(decoded)) {
      return Either.left(new Refusal(400, "bad_path", `path segment ${JSON.stringify(decoded.slice(0, 80))} is not allowed`))
    }
    out.push(decoded)
  }
  return Either.right(out)
}

const nonNegativeInt = (name: string, value: string | null, fallback: number) => {
  if (value === null) return Effect.succeed(fallback)
  return /^\d{1,15}$/.test(value)
    ? Effect.succeed(Number(value))
    : refuse(400, "bad_query", `${name} must be a non-negative integer, got ${JSON.stringify(value.slice(0, 40))}`)
}

/** The stream is in the path already; only the event's own fields and its global place go out. */
const toWire = (e: StoredEvent): WireEvent => ({
  event_id: e.event_id,
  event_type: e.event_type,
  payload: e.payload,
  metadata: e.metadata,
  position: e.position,
  recorded_at: e.recorded_at,
  global_position: e.global_position,
})

/**
 * The body as text, at most `maxBodyBytes`. Past the limit the rest is read and dropped rather than
 * the socket destroyed, so the client gets its 413 (sent with `Connection: close`).
 */
const readBody = (request: HttpServerRequest.HttpServerRequest, maxBodyBytes: number) => {
  const declared = request.headers["content-length"]
  if (declared !== undefined && Number(declared) > maxBodyBytes) {
    return refuse(413, "body_too_large", `body of ${declared} bytes exceeds the limit of ${maxBodyBytes}`)
  }
  const message = NodeHttpServerRequest.toIncomingMessage(request)
  return Effect.async<string, Refusal>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const detach = () => {
      message.off("data", onData)
      message.off("end", onEnd)
      message.off("error", onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBodyBytes) return void chunks.push(chunk)
      detach()
      message.resume()
      resume(Effect.fail(new Refusal(413, "body_too_large", `body exceeds the limit of ${maxBodyBytes} bytes`)))
    }
    const onEnd = () => {
      detach()
      resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
    }
    const onError = (e: Error) => {
      detach()
      resume(Effect.fail(new Refusal(400, "bad_body", `could not read the body: ${e.message}`)))
    }
    message.on("data", onData)
    message.on("end", onEnd)
    message.on("error", onError)
    return Effect.sync(detach)
  })
}

/**
 * JSON text to a request body: the compiled guard passes the well-formed common case, the Schema
 * judges the rest and names the bad field.
 */
const bodyDecoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const guard = fastGuardKeepingExcess(schema)
  const decode = Schema.decodeUnknown(schema, { onExcessProperty: "ignore" })
  return (text: string) =>
    Effect.gen(function* () {
      const json = yield* Effect.try({
        try: (): unknown => JSON.parse(text),
        catch: (e) => new Refusal(400, "malformed_json", `body is not JSON: ${e instanceof Error ? e.message : String(e)}`),
      })
      if (guard?.(json)) return json as A
      return yield* decode(json).pipe(
        Effect.mapError((e) => new Refusal(400, "invalid_body", ParseResult.TreeFormatter.formatErrorSync(e))),
      )
    })
}

const appendBody = bodyDecoder(AppendRequest)
const batchBody = bodyDecoder(AppendBatchRequest)

const badEventId = (e: { readonly event_id: string; readonly event_type: string }): boolean =>
  e.event_id.length === 0 || e.event_id.length > MAX_EVENT_ID || e.event_type.length === 0

const badEvent = (i: number) =>
  refuse(400, "invalid_body", `events[${i}]: event_id (1..${MAX_EVENT_ID} chars) and event_type must be non-empty`)

/** The body of `events:appendBatch`: every event valid and every stream name a safe segment. */
const decodeBatch = (text: string) =>
  Effect.gen(function* () {
    const body = yield* batchBody(text)
    const batch: Array<Addressed> = []
    for (const [i, e] of body.events.entries()) {
      if (![e.bucket, e.aggregate_type, e.aggregate_id].every(isSafeSegment))
        return yield* refuse(400, "bad_path", `events[${i}]: bucket, aggregate_type and aggregate_id must be safe path segments`)
      if (badEventId(e)) return yield* badEvent(i)
      batch.push({
        stream: { bucket: e.bucket, aggregate_type: e.aggregate_type, aggregate_id: e.aggregate_id },
        event: { event_id: e.event_id, event_type: e.event_type, payload: e.payload, metadata: e.metadata ?? {} },
      })
    }
    return batch
  })

const decodeAppend = (text: string) =>
  Effect.gen(function* () {
    const body = yield* appendBody(text)
    const bad = body.events.findIndex(badEventId)
    if (bad >= 0) return yield* badEvent(bad)
    // Only the four fields of the protocol reach the store, whatever else a client sent.
    return body.events.map(
      (e): NewEvent => ({ event_id: e.event_id, event_type: e.event_type, payload: e.payload, metadata: e.metadata }),
    )
  })

/** The HTTP app: needs the EventStore, answers every request (errors included) with JSON. */
export const storeApp = (options: StoreServerOptions = {}) => {
  const project = options.project ?? "ezop"
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY
  const token = options.token

  const handle = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const store = yield* EventStore

    if (token !== undefined) {
      const auth = request.headers["authorization"] ?? ""
      if (!auth.startsWith("Bearer ") || !sameSecret(auth.slice(7), token)) {
        return yield* refuse(401, "unauthorized", "a valid Authorization: Bearer token is required")
      }
    }

    const queryAt = request.url.indexOf("?")
    const rawPath = queryAt < 0 ? request.url : request.url.slice(0, queryAt)
    const query = new URLSearchParams(queryAt < 0 ? "" : request.url.slice(queryAt + 1))
    const segments = yield* pathSegments(rawPath)
    const [v1, projects, projectId, streams, bucket, aggregateType, aggregateId, verb, ...rest] = segments
    if (v1 === "v1" && projects === "projects" && streams === "events:appendBatch" && bucket === undefined) {
      if (projectId !== project) return yield* refuse(404, "unknown_project", `this server serves project "${project}"`)
      if (request.method !== "POST") return yield* refuse(405, "method_not_allowed", "use POST to append")
      const batch = yield* Effect.flatMap(readBody(request, maxBodyBytes), decodeBatch)
      const result = yield* Effect.mapError(store.appendBatch(batch), fromStoreError)
      return HttpServerResponse.unsafeJson({ stored: result.stored, duplicates: result.duplicates } satisfies AppendResponse)
    }
    if (v1 !== "v1" || projects !== "projects" || streams !== "streams" || bucket === undefined || rest.length > 0) {
      return yield* refuse(404, "not_found", `no such resource: ${rawPath.slice(0, 200)}`)
    }
    if (projectId !== project) return yield* refuse(404, "unknown_project", `this server serves project "${project}"`)

    if (aggregateType === undefined) {
      if (request.method !== "GET") return yield* refuse(405, "method_not_allowed", "use GET to list streams")
      const infos = yield* Effect.mapError(store.listStreams(bucket), fromStoreError)
      const body: ListStreamsResponse = {
        streams: infos.map((s) => ({ aggregate_type: s.aggregate_type, aggregate_id: s.aggregate_id, length: s.length })),
      }
      return HttpServerResponse.unsafeJson(body)
    }
    if (aggregateId === undefined || verb === undefined) {
      return yield* refuse(404, "not_found", `no such resource: ${rawPath.slice(0, 200)}`)
    }
    const stream: StreamRef = { bucket, aggregate_type: aggregateType, aggregate_id: aggregateId }

    if (verb === "events:append") {
      if (request.method !== "POST") return yield* refuse(405, "method_not_allowed", "use POST to append")
      const events = yield* Effect.flatMap(readBody(request, maxBodyBytes), decodeAppend)
      const result = yield* Effect.mapError(store.append(stream, events), fromStoreError)
      if (result.stored === 0 && result.duplicates > 0) {
        return errorResponse(409, "all_duplicates", `all ${result.duplicates} events already exist`, {
          stored: 0,
          duplicates: result.duplicates,
        })
      }
      return HttpServerResponse.unsafeJson({ stored: result.stored, duplicates: result.duplicates } satisfies AppendResponse)
    }
    if (verb === "events") {
      if (request.method !== "GET") return yield* refuse(405, "method_not_allowed", "use GET to read")
      const after = yield* nonNegativeInt("after_position", query.get("after_position"), 0)
      const limit = Math.min(READ_PAGE_LIMIT, yield* nonNegativeInt("limit", query.get("limit"), READ_PAGE_LIMIT))
      if (limit === 0) return yield* refuse(400, "bad_query", "limit must be at least 1")
      if (store.readStreamPageJson) {
        // The store hands over the page as JSON text: no payload is parsed and written again.
        const page = yield* store.readStreamPageJson(stream, after, limit).pipe(Effect.mapError(fromStoreError))
        if (page.count === 0 && after === 0) return yield* refuse(404, "stream_not_found", "no events in this stream")
        return HttpServerResponse.raw(`{"events":${page.json},"next_position":${page.lastPosition}}`, {
          contentType: "application/json",
          ...(page.count === limit ? { headers: { [NEXT_POSITION_HEADER]: String(page.lastPosition) } } : {}),
        })
      }
      const page = yield* store.readStream(stream, after).pipe(
        Stream.take(limit),
        Stream.runCollect,
        Effect.map(Chunk.toReadonlyArray),
        Effect.mapError(fromStoreError),
      )
      if (page.length === 0 && after === 0) {
        return yield* refuse(404, "stream_not_found", "no events in this stream")
      }
      const body: ReadResponse = { events: page.map(toWire), next_position: page.at(-1)?.position ?? after }
      // A string body goes to the socket as it is, without a copy through TextEncoder: reads are the hot path.
      const next = body.next_position ?? after
      return HttpServerResponse.raw(JSON.stringify(body), {
        contentType: "application/json",
        ...(page.length === limit ? { headers: { [NEXT_POSITION_HEADER]: String(next) } } : {}),
      })
    }
    return yield* refuse(404, "not_found", `no such resource: ${rawPath.slice(0, 200)}`)
  })

  return handle.pipe(
    Effect.catchAll((e) => Effect.succeed(errorResponse(e.status, e.code, e.message))),
    Effect.catchAllDefect((defect) =>
      Effect.succeed(errorResponse(500, "internal", defect instanceof Error ? defect.message : String(defect))),
    ),
  )
}

const formatHost = (host: string) => (host.includes(":") ? `[${host}]` : host)

/**
 * Listen and serve until the scope closes. Closing drops open connections too, so a stalled
 * client cannot keep the process alive.
 */
export const serveStore = (
  options: StoreServerOptions = {},
): Effect.Effect<RunningStoreServer, HttpServerError.ServeError, EventStore | Scope.Scope> =>
  Effect.gen(function* () {
    const host = options.host ?? "127.0.0.1"
    const node = Http.createServer({ requestTimeout: 120_000, headersTimeout: 30_000, keepAliveTimeout: 10_000 })
    const server = yield* NodeHttpServer.make(() => node, { host, port: options.port ?? 8080 })
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    yield* server.serve(storeApp(options))
    const address = server.address
    const port = address._tag === "TcpAddress" ? address.port : (options.port ?? 8080)
    return { host, port, url: `http://${formatHost(host)}:${port}` }
  }).pipe(Effect.withSpan("StoreServer.serve"))

