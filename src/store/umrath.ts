// The EventStore over Umrath's HTTP protocol (or `xmon store serve`, which speaks the same).
// One keep-alive undici Pool per layer, closed when the layer's scope ends.
import { Chunk, Config, Data, Duration, Effect, Either, Fiber, Layer, Option, ParseResult, Schema, Stream } from "effect"
import { Pool } from "undici"
import type { Addressed, NewEvent, StoredEvent, StreamRef } from "../events/envelope.js"
import { streamKey } from "../events/envelope.js"
import { fastGuardKeepingExcess } from "../events/fast-guard.js"
import { parseInstant } from "../events/instant.js"
import { makeCheckpointFile } from "./checkpoint-file.js"
import { EventStore, StoreError } from "./event-store.js"
import type { AppendResult, CheckpointWrite, EventStoreShape, StreamInfo } from "./event-store.js"
import {
  AppendResponse,
  ErrorBody,
  ListStreamsResponse,
  NEXT_POSITION_HEADER,
  READ_PAGE_LIMIT,
  ReadResponse,
  appendPath,
  listStreamsPath,
  appendBatchPath,
  readPath,
} from "./http-api.js"
import type { WireEvent } from "./http-api.js"
import { defaultRetryPolicy, parseRetryAfter, transientSchedule } from "./retry.js"
import type { RetryPolicy } from "./retry.js"

/** Events per request of the batch extension (a few hundred KiB of JSON). */
const BATCH_REQUEST_EVENTS = 1000

export interface UmrathConfig {
  /** Base URL; default `UMRATH_URL`, else `http://127.0.0.1:8080`. A path prefix is kept. */
  readonly url?: string
  /** Default `UMRATH_PROJECT_ID`, else `ezop`. */
  readonly project?: string
  /** `X-Caller` header; default `xmon`. */
  readonly caller?: string
  /** Sent as `Authorization: Bearer <token>` when set. */
  readonly token?: string
  /** Default 5 s. */
  readonly connectTimeout?: Duration.DurationInput
  /** Whole request, headers and body; default 30 s. Each retry gets its own. */
  readonly requestTimeout?: Duration.DurationInput
  readonly retry?: Partial<RetryPolicy>
  /** Default `EZRECON_EVAL_CHECKPOINT`, else `.eval_checkpoint.json`. */
  readonly checkpointFile?: string
  /**
   * The streams of a bucket: the protocol cannot list them, so the caller names them (the CLI
   * reads them off the inventory pages). Without it, the layer asks the listing extension of
   * `xmon store serve` (`GET …/streams/{bucket}`), which a real Umrath does not have.
   */
  readonly streams?: (bucket: string) => Effect.Effect<ReadonlyArray<StreamRef>, StoreError>
  /** Streams read at once by `readBucket`/`listStreams`. Default 8. */
  readonly concurrency?: number
  /** Events per append request; longer runs of one stream are split. Default 500. */
  readonly maxEventsPerRequest?: number
  /** Keep-alive connections in the pool. Default 16. */
  readonly connections?: number
}

/** An HTTP answer we did not expect; travels in `StoreError.cause`. */
export class UmrathHttpError extends Data.TaggedError("UmrathHttpError")<{
  readonly status: number
  readonly body: string
  readonly retryAfterMillis?: number
}> {}

/** The pool would not close; only ever ignored, in the finalizer. */
class PoolCloseError extends Data.TaggedError("PoolCloseError")<{ readonly cause: unknown }> {}

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: string
}

const STORE = "umrath"

const nonTransientCodes = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED", "ERR_INVALID_URL"])

const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return typeof code === "string" ? `${cause.message} (${code})` : cause.message
  }
  return String(cause)
}

/** The server's own words: `{ error: { message } }` when it sent that, else the start of the body. */
const serverMessage = (body: string): string => {
  try {
    const decoded = Schema.decodeUnknownOption(ErrorBody)(JSON.parse(body))
    if (Option.isSome(decoded)) return `${decoded.value.error.code}: ${decoded.value.error.message}`
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.length > 500 ? `${body.slice(0, 500)}…` : body
}

const errorCode = (body: string): string | undefined => {
  try {
    return Option.getOrUndefined(Schema.decodeUnknownOption(ErrorBody)(JSON.parse(body)))?.error.code
  } catch {
    return undefined
  }
}

const header = (answer: Answer, name: string): string | undefined => {
  const v = answer.headers[name]
  return Array.isArray(v) ? v[0] : v
}

const isTransientStatus = (status: number) => status === 429 || status >= 500

const parseJson = (operation: string, body: string) =>
  Effect.try({
    try: (): unknown => JSON.parse(body),
    catch: (cause) =>
      new StoreError({ store: STORE, operation, message: `response is not JSON: ${describeCause(cause)}`, transient: false, cause }),
  })

/**
 * Decode an answer. A compiled guard accepts the common, well-formed case without the full parser
 * (reads are the hot path); anything it does not vouch for goes through the Schema, which also
 * names the bad field. Extra fields are fine either way: we copy only what we use.
 */
const decodeWith = <A, I>(schema: Schema.Schema<A, I>, operation: string) => {
  const guard = fastGuardKeepingExcess(schema)
  const decode = Schema.decodeUnknown(schema)
  return (value: unknown): Effect.Effect<A, StoreError> =>
    guard?.(value) ? Effect.succeed(value as A) : decode(value).pipe(
      Effect.mapError(
        (cause) =>
          new StoreError({
            store: STORE,
            operation,
            message: `unexpected response: ${ParseResult.TreeFormatter.formatErrorSync(cause)}`,
            transient: false,
            cause,
          }),
      ),
    )
}

/** `scanned_at` as a number for ordering; missing or unreadable sorts first. */
const scannedAtKey = (event: StoredEvent): number => {
  const value = event.payload["scanned_at"]
  if (typeof value !== "string") return Number.NEGATIVE_INFINITY
  const at = parseInstant(value)
  return Number.isNaN(at) ? Number.NEGATIVE_INFINITY : at
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The one deterministic order of a bucket merged from its streams: `scanned_at`, then aggregate
 * type, then id, then position. When the server numbered every event in its own total order
 * (`global_position`, as `xmon store serve` does), that order is used instead, so reading through
 * the server folds exactly like reading its SQLite file directly. Either way `global_position` is
 * renumbered 1..n in the result. Exported for tests and for other readers of the same streams.
 */
export const mergeOrder = (
  events: ReadonlyArray<StoredEvent>,
  serverOrder: ReadonlyArray<number | undefined> = [],
): ReadonlyArray<StoredEvent> => {
  const keyed = events.map((event, i) => ({ event, at: scannedAtKey(event), server: serverOrder[i] }))
  const useServer = keyed.length > 0 && keyed.every((k) => k.server !== undefined)
  keyed.sort((x, y) =>
    useServer
      ? x.server! - y.server!
      : (x.at === y.at ? 0 : x.at < y.at ? -1 : 1) ||
        compareText(x.event.aggregate_type, y.event.aggregate_type) ||
        compareText(x.event.aggregate_id, y.event.aggregate_id) ||
        x.event.position - y.event.position,
  )
  return keyed.map(({ event }, i) => ({ ...event, global_position: i + 1 }))
}

const toStored = (stream: StreamRef, wire: WireEvent): StoredEvent => ({
  bucket: stream.bucket,
  aggregate_type: stream.aggregate_type,
  aggregate_id: stream.aggregate_id,
  event_id: wire.event_id,
  event_type: wire.event_type,
  payload: wire.payload,
  metadata: wire.metadata ?? {},
  position: wire.position,
  // Without the server's number, a single stream's own position stands in (readBucket renumbers).
  global_position: wire.global_position ?? wire.position,
  recorded_at: wire.recorded_at,
})

const sortStreams = <S extends StreamRef>(streams: ReadonlyArray<S>): Array<S> =>
  [...streams].sort(
    (a, b) => compareText(a.aggregate_type, b.aggregate_type) || compareText(a.aggregate_id, b.aggregate_id),
  )

const uniqueStreams = (bucket: string, streams: ReadonlyArray<StreamRef>): Array<StreamRef> => {
  const seen = new Map<string, StreamRef>()
  for (const s of streams) if (s.bucket === bucket) seen.set(streamKey(s), s)
  return sortStreams([...seen.values()])
}

/**
 * The pool's finalizer. Closing must not fail the scope (a rejected promise under `Effect.promise`
 * would be a defect): a pool that will not close in time, or refuses to (already destroyed), is
 * destroyed, and a failed destroy is ignored, as its sockets die with the process anyway.
 */
export const closePool = (pool: Pick<Pool, "close" | "destroy">): Effect.Effect<void> =>
  Effect.tryPromise({ try: () => pool.close(), catch: (cause) => new PoolCloseError({ cause }) }).pipe(
    Effect.timeout("2 seconds"),
    Effect.orElse(() => Effect.tryPromise({ try: () => pool.destroy(), catch: (cause) => new PoolCloseError({ cause }) })),
    Effect.ignore,
  )

const make = (config: UmrathConfig) =>
  Effect.gen(function* () {
    const url = config.url ?? (yield* Config.string("UMRATH_URL").pipe(Config.withDefault("http://127.0.0.1:8080")))
    const project = config.project ?? (yield* Config.string("UMRATH_PROJECT_ID").pipe(Config.withDefault("ezop")))
    const checkpointPath =
      config.checkpointFile ??
      (yield* Config.string("EZRECON_EVAL_CHECKPOINT").pipe(Config.withDefault(".eval_checkpoint.json")))
    const base = yield* Effect.try({
      try: () => new URL(url),
      catch: (cause) =>
        new StoreError({ store: STORE, operation: "connect", message: `bad Umrath URL ${url}`, transient: false, cause }),
    })
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      return yield* new StoreError({
        store: STORE,
        operation: "connect",
        message: `Umrath URL must be http(s): ${url}`,
        transient: false,
      })
    }
    const prefix = base.pathname.replace(/\/+$/, "")
    // Names the store in messages and in the checkpoint file, which must not be reused for
    // another server or project: the normalised URL and the project.
    const describe = `umrath:${base.origin}${prefix} (project ${project})`
    const caller = config.caller ?? "xmon"
    const requestTimeout = Duration.decode(config.requestTimeout ?? "30 seconds")
    const connectMillis = Duration.toMillis(config.connectTimeout ?? "5 seconds")
    const concurrency = Math.max(1, config.concurrency ?? 8)
    const maxPerRequest = Math.max(1, config.maxEventsPerRequest ?? 500)
    const schedule = transientSchedule({ ...defaultRetryPolicy, ...config.retry })
    const checkpoints = yield* makeCheckpointFile(checkpointPath, describe)

    const pool = yield* Effect.acquireRelease(
      Effect.sync(
        () =>
          new Pool(base.origin, {
            connections: config.connections ?? 16,
            connect: { timeout: connectMillis },
            // The whole-request timeout below is the real limit; these only stop a silent socket.
            headersTimeout: Duration.toMillis(requestTimeout),
            bodyTimeout: Duration.toMillis(requestTimeout),
            keepAliveTimeout: 10_000,
          }),
      ),
      closePool,
    )

    const headers: Record<string, string> = {
      "x-caller": caller,
      accept: "application/json",
      ...(config.token === undefined ? {} : { authorization: `Bearer ${config.token}` }),
    }

    /** One HTTP exchange, body read whole, under the request timeout. No status handling. */
    const exchange = (operation: string, method: "GET" | "POST", path: string, body?: string) =>
      Effect.tryPromise({
        try: async (signal): Promise<Answer> => {
          const res = await pool.request({
            method,
            path: prefix + path,
            headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
            ...(body === undefined ? {} : { body }),
            signal,
          })
          const text = await res.body.text()
          return { status: res.statusCode, headers: res.headers, body: text }
        },
        catch: (cause) => {
          const code = (cause as { code?: unknown } | null)?.code
          return new StoreError({
            store: describe,
            operation,
            message: `${method} ${path}: ${describeCause(cause)}`,
            transient: !(typeof code === "string" && nonTransientCodes.has(code)),
            cause,
          })
        },
      }).pipe(
        Effect.timeoutFail({
          duration: requestTimeout,
          onTimeout: () =>
            new StoreError({
              store: describe,
              operation,
              message: `${method} ${path}: no answer within ${Duration.format(requestTimeout)}`,
              transient: true,
            }),
        }),
      )

    /** An answer whose status the caller does not handle: transient for 429/5xx, final otherwise. */
    const unexpected = (operation: string, path: string, answer: Answer) =>
      Effect.flatMap(Effect.clockWith((clock) => clock.currentTimeMillis), (now) => {
        const retryAfterMillis = parseRetryAfter(header(answer, "retry-after"), now)
        return Effect.fail(
          new StoreError({
            store: describe,
            operation,
            message: `${path}: HTTP ${answer.status}: ${serverMessage(answer.body)}`,
            transient: isTransientStatus(answer.status),
            cause: new UmrathHttpError({
              status: answer.status,
              body: answer.body,
              ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }),
            }),
          }),
        )
      })

    /** Send, classify, retry what is transient. `handled` statuses go to the caller. */
    const call = (operation: string, method: "GET" | "POST", path: string, handled: ReadonlyArray<number>, body?: string) =>
      exchange(operation, method, path, body).pipe(
        Effect.flatMap((answer) =>
          (answer.status >= 200 && answer.status < 300) || handled.includes(answer.status)
            ? Effect.succeed(answer)
            : unexpected(operation, path, answer),
        ),
        Effect.retry(schedule),
      )

    const decodeAppended = (answer: Answer, sent: number): AppendResult => {
      try {
        const counts = Schema.decodeUnknownOption(AppendResponse)(JSON.parse(answer.body))
        if (Option.isSome(counts)) return counts.value
      } catch {
        // Umrath's 2xx body is not ours to know: everything sent is stored.
      }
      return { stored: sent, duplicates: 0 }
    }

    const addResults = (results: Iterable<AppendResult>): AppendResult => {
      let stored = 0
      let duplicates = 0
      for (const r of results) {
        stored += r.stored
        duplicates += r.duplicates
      }
      return { stored, duplicates }
    }

    /**
     * One request. A 409 means "already there" for a single event; for several, a real Umrath may
     * refuse the whole batch for one duplicate, so each is re-sent alone (our server says
     * `all_duplicates` when every one existed, which spares that).
     */
    const appendRequest = (stream: StreamRef, events: ReadonlyArray<NewEvent>): Effect.Effect<AppendResult, StoreError> =>
      call("append", "POST", appendPath(project, stream), [409], JSON.stringify({ events })).pipe(
        Effect.flatMap((answer) => {
          if (answer.status !== 409) return Effect.succeed(decodeAppended(answer, events.length))
          if (events.length === 1 || errorCode(answer.body) === "all_duplicates") {
            return Effect.succeed({ stored: 0, duplicates: events.length })
          }
          return Effect.map(
            Effect.forEach(events, (event) => appendRequest(stream, [event])),
            addResults,
          )
        }),
      )

    const append = Effect.fn("Umrath.append")(function* (stream: StreamRef, events: ReadonlyArray<NewEvent>) {
      const results: Array<AppendResult> = []
      for (let i = 0; i < events.length; i += maxPerRequest) {
        results.push(yield* appendRequest(stream, events.slice(i, i + maxPerRequest)))
      }
      return addResults(results)
    })

    /**
     * Consecutive events of one stream go in one request (split at `maxEventsPerRequest`), runs in
     * batch order, one after another: a server with a total order (ours) then keeps the batch's
     * order, exactly as SQLite does, and each stream's order holds everywhere.
     */
    /** Whether the server has our one-request batch extension; learnt from the first answer. */
    let batchEndpoint: boolean | undefined = undefined

    /**
     * A batch in one request through the extension; `None` if the server does not have it. A real
     * Umrath may answer a path it does not know with any of these. Once the extension has worked,
     * they are real errors. A 401 is not remembered: the per-stream request that follows gets the
     * same answer and fails with it, and a later, authorised call may still find the extension.
     */
    const noExtension = [400, 401, 403, 404, 405, 501]
    const appendBatchRequest = (batch: ReadonlyArray<Addressed>) =>
      call(
        "appendBatch",
        "POST",
        appendBatchPath(project),
        batchEndpoint === true ? [] : noExtension,
        JSON.stringify({ events: batch.map(({ stream, event }) => ({ ...stream, ...event })) }),
      ).pipe(
        Effect.map((answer) =>
          answer.status >= 200 && answer.status < 300
            ? Either.right(decodeAppended(answer, batch.length))
            : Either.left(answer.status),
        ),
      )

    const appendBatch = Effect.fn("Umrath.appendBatch")(function* (
      batch: ReadonlyArray<Addressed>,
      checkpointWrites?: ReadonlyArray<CheckpointWrite>,
    ) {
      const results: Array<AppendResult> = []
      // Our server takes a whole batch (of many streams) in one request and one transaction.
      if (batchEndpoint !== false && batch.length > 0) {
        let fellBack = false
        for (let start = 0; start < batch.length && !fellBack; start += BATCH_REQUEST_EVENTS) {
          const answer = yield* appendBatchRequest(batch.slice(start, start + BATCH_REQUEST_EVENTS))
          if (Either.isLeft(answer)) {
            fellBack = true
            if (answer.left !== 401) batchEndpoint = false
          } else {
            batchEndpoint = true
            results.push(answer.right)
          }
        }
        // A fallback can only come before the extension has worked once, so nothing was sent yet.
        if (fellBack) results.length = 0
        else {
          if (checkpointWrites && checkpointWrites.length > 0) yield* checkpoints.save(checkpointWrites)
          return addResults(results)
        }
      }
      let i = 0
      while (i < batch.length) {
        const stream = batch[i]!.stream
        const key = streamKey(stream)
        const events: Array<NewEvent> = []
        while (i < batch.length && events.length < maxPerRequest && streamKey(batch[i]!.stream) === key) {
          events.push(batch[i]!.event)
          i++
        }
        results.push(yield* appendRequest(stream, events))
      }
      if (checkpointWrites && checkpointWrites.length > 0) yield* checkpoints.save(checkpointWrites)
      return addResults(results)
    })

    const decodePage = decodeWith(ReadResponse, "read")
    const decodeListing = decodeWith(ListStreamsResponse, "listStreams")

    const fetchPage = (stream: StreamRef, after: number) =>
      call("read", "GET", readPath(project, stream, after, READ_PAGE_LIMIT), [404])

    const decodeAnswer = (answer: Answer, after: number): Effect.Effect<ReadResponse, StoreError> =>
      answer.status === 404
        ? Effect.succeed({ events: [], next_position: after })
        : Effect.flatMap(parseJson("read", answer.body), decodePage)

    /** A short page ends the stream; so does a cursor that would not move (a confused server). */
    const nextCursor = (page: ReadResponse, cursor: number): Option.Option<number> => {
      const next = page.next_position ?? page.events.at(-1)?.position ?? cursor
      return page.events.length >= READ_PAGE_LIMIT && next > cursor ? Option.some(next) : Option.none()
    }

    /**
     * The decoded pages of a stream. When the server says in a header that more follows (ours
     * does), the next page is asked for before this one is parsed, so the server's work and ours
     * overlap; a prefetch that turns out not to be needed is interrupted with the stream's scope.
     */
    const pages = (stream: StreamRef, afterPosition: number): Stream.Stream<ReadResponse, StoreError> =>
      Stream.unwrapScoped(
        Effect.map(Effect.scope, (scope) =>
          Stream.paginateEffect(
            { cursor: afterPosition, ahead: undefined as Fiber.Fiber<Answer, StoreError> | undefined },
            ({ cursor, ahead }) =>
              Effect.gen(function* () {
                const answer = yield* (ahead ? Fiber.join(ahead) : fetchPage(stream, cursor))
                const hinted = Number(header(answer, NEXT_POSITION_HEADER) ?? Number.NaN)
                const prefetch =
                  answer.status === 200 && Number.isInteger(hinted) && hinted > cursor
                    ? yield* Effect.forkIn(fetchPage(stream, hinted), scope)
                    : undefined
                const page = yield* decodeAnswer(answer, cursor)
                const next = nextCursor(page, cursor)
                const useful = prefetch !== undefined && Option.isSome(next) && next.value === hinted
                if (prefetch && !useful) yield* Fiber.interrupt(prefetch)
                return [page, Option.map(next, (c) => ({ cursor: c, ahead: useful ? prefetch : undefined }))] as const
              }),
          ),
        ),
      )

    const readStream = (stream: StreamRef, afterPosition: number): Stream.Stream<StoredEvent, StoreError> =>
      pages(stream, afterPosition).pipe(
        Stream.mapConcatChunk((page) => Chunk.fromIterable(page.events.map((w) => toStored(stream, w)))),
      )

    /**
     * Answers that mean "this server has no listing" (a real Umrath): not found, not allowed, not
     * implemented, or a path it finds malformed. Anything else (auth, 5xx after the retries, a body
     * we cannot read) is an error: a listing we failed to get must not read as an empty one.
     */
    const noListing = [400, 404, 405, 501]
    const cannotList = (e: StoreError) =>
      new StoreError({ ...e, message: `${e.message} (Umrath cannot list streams: supply them from the inventory pages)` })

    const decodeStreams = (bucket: string, answer: Answer): Effect.Effect<Array<StreamInfo>, StoreError> =>
      parseJson("listStreams", answer.body).pipe(
        Effect.flatMap(decodeListing),
        Effect.map((r) =>
          r.streams.map((s) => ({ bucket, aggregate_type: s.aggregate_type, aggregate_id: s.aggregate_id, length: s.length })),
        ),
      )

    /** The server's listing, or `None` when it has none. */
    const listing = (bucket: string): Effect.Effect<Option.Option<Array<StreamInfo>>, StoreError> =>
      call("listStreams", "GET", listStreamsPath(project, bucket), noListing).pipe(
        Effect.flatMap((answer) =>
          noListing.includes(answer.status)
            ? Effect.succeed(Option.none())
            : Effect.map(decodeStreams(bucket, answer), Option.some),
        ),
      )

    /** The listing, required: without supplied streams there is no other way to know them. */
    const listed = (bucket: string) =>
      call("listStreams", "GET", listStreamsPath(project, bucket), []).pipe(
        Effect.flatMap((answer) => decodeStreams(bucket, answer)),
        Effect.mapError(cannotList),
      )

    // A server that lists its streams (`xmon store serve`) names all of them, so the pages (which
    // know only the entities they describe, not every certificate serial ever seen) are not read.
    // A real Umrath has no listing: then the pages are all there is.
    const serverStreams = (bucket: string): Effect.Effect<Option.Option<Array<StreamInfo>>, StoreError> =>
      config.streams ? listing(bucket) : Effect.map(listed(bucket), Option.some)

    const streamRefs = (bucket: string): Effect.Effect<Array<StreamRef>, StoreError> =>
      Effect.gen(function* () {
        const fromServer = yield* serverStreams(bucket)
        if (Option.isSome(fromServer)) return uniqueStreams(bucket, fromServer.value.filter((i) => i.length > 0))
        return uniqueStreams(bucket, yield* config.streams!(bucket))
      })

    /** A whole stream, with the server's global positions where it sent them. */
    const readAll = (stream: StreamRef) =>
      pages(stream, 0).pipe(
        Stream.mapConcatChunk((page) => Chunk.unsafeFromArray(page.events)),
        Stream.runCollect,
        Effect.map((wire) => ({
          events: Chunk.toReadonlyArray(Chunk.map(wire, (w) => toStored(stream, w))),
          server: Chunk.toReadonlyArray(Chunk.map(wire, (w) => w.global_position)),
        })),
      )

    const readBucket = (bucket: string, afterGlobalPosition: number): Stream.Stream<StoredEvent, StoreError> =>
      Stream.unwrap(
        Effect.gen(function* () {
          const streams = yield* streamRefs(bucket)
          const perStream = yield* Effect.forEach(streams, readAll, { concurrency })
          const merged = mergeOrder(
            perStream.flatMap((s) => s.events),
            perStream.flatMap((s) => s.server),
          )
          return Stream.fromIterable(merged.slice(Math.max(0, afterGlobalPosition)))
        }).pipe(Effect.withSpan("Umrath.readBucket")),
      )

    const listStreams = Effect.fn("Umrath.listStreams")(function* (bucket: string) {
      const fromServer = yield* serverStreams(bucket)
      if (Option.isSome(fromServer)) return sortStreams(fromServer.value.filter((s) => s.length > 0))
      // A real Umrath: the pages name the streams, and only reading one tells its length.
      const streams = uniqueStreams(bucket, yield* config.streams!(bucket))
      const infos = yield* Effect.forEach(
        streams,
        (s) =>
          Stream.runFold(readStream(s, 0), 0, (n, e) => Math.max(n, e.position)).pipe(
            Effect.map((length): StreamInfo => ({ ...s, length })),
          ),
        { concurrency },
      )
      return infos.filter((s) => s.length > 0)
    })

    const store: EventStoreShape = {
      describe,
      append,
      appendBatch,
      readStream,
      readBucket,
      listStreams,
      loadCheckpoint: checkpoints.load,
      saveCheckpoint: (c) => checkpoints.save([c]),
    }
    return store
  })

const configError = (cause: unknown) =>
  new StoreError({ store: STORE, operation: "config", message: describeCause(cause), transient: false, cause })

export const UmrathEventStore = {
  /** The EventStore over HTTP. Needs nothing; the connection pool lives as long as the layer. */
  layer: (config: UmrathConfig = {}): Layer.Layer<EventStore, StoreError> =>
    Layer.scoped(
      EventStore,
      make(config).pipe(Effect.catchTag("ConfigError", (e) => Effect.fail(configError(e)))),
    ),
  make,
}
