// The Umrath event-store wire protocol, defined once: paths, bodies and error shape. The client
// (`umrath.ts`) and the compatible server (`server.ts`) both build on these definitions.
import { Schema } from "effect"
import { JsonObject, NewEvent } from "../events/envelope.js"
import type { StreamRef } from "../events/envelope.js"

/** Page size the original asks for; also the most the server returns per page. */
export const READ_PAGE_LIMIT = 500

/**
 * Extension of our server: on a full read page it also sends the next `after_position` in this
 * header, before the body, so a client may ask for the next page while it parses this one.
 * Clients must not rely on it (a real Umrath does not send it).
 */
export const NEXT_POSITION_HEADER = "x-next-position"

/** `POST …/events:append` body. */
export const AppendRequest = Schema.Struct({ events: Schema.Array(NewEvent) })
export type AppendRequest = typeof AppendRequest.Type

/**
 * What our server answers on 2xx. A real Umrath may answer anything (or nothing) on 2xx, so the
 * client treats these counts as optional.
 */
export const AppendResponse = Schema.Struct({ stored: Schema.Number, duplicates: Schema.Number })
export type AppendResponse = typeof AppendResponse.Type

/**
 * An event as a read page carries it. Extra fields (stream names, global positions, Umrath's own
 * bookkeeping) are ignored by decoding, so a newer server does not break us.
 */
export const WireEvent = Schema.Struct({
  event_id: Schema.String,
  event_type: Schema.String,
  payload: JsonObject,
  /** Absent or null reads as `{}`. */
  metadata: Schema.optional(Schema.NullOr(JsonObject)),
  position: Schema.Number,
  recorded_at: Schema.String,
  /** Our server's (and perhaps Umrath's) place in the store's one total order; optional on the wire. */
  global_position: Schema.optional(Schema.Number),
})
export type WireEvent = typeof WireEvent.Type

/** `GET …/events?after_position=N&limit=L` answer. */
export const ReadResponse = Schema.Struct({
  events: Schema.Array(WireEvent),
  next_position: Schema.optional(Schema.NullOr(Schema.Number)),
})
export type ReadResponse = typeof ReadResponse.Type

/**
 * Extension of our server, not part of Umrath: `GET …/streams/{bucket}` lists the streams of a
 * bucket with their lengths, so that several machines sharing `xmon store serve` can evaluate
 * without inventory pages. A real Umrath answers 404 here.
 */
export const ListStreamsResponse = Schema.Struct({
  streams: Schema.Array(
    Schema.Struct({ aggregate_type: Schema.String, aggregate_id: Schema.String, length: Schema.Number }),
  ),
})
export type ListStreamsResponse = typeof ListStreamsResponse.Type

/** Every 4xx/5xx of our server carries this body. */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({ code: Schema.String, message: Schema.String }),
})
export type ErrorBody = typeof ErrorBody.Type

/**
 * A path segment our server accepts: printable ASCII letters, digits and `._:@+=,~-`, not `.` or
 * `..`, at most 512 characters. Ids in the original are slugs, IPs, hostnames and UUIDs.
 */
export const isSafeSegment = (segment: string): boolean =>
  segment.length > 0 &&
  segment.length <= 512 &&
  segment !== "." &&
  segment !== ".." &&
  /^[A-Za-z0-9._:@+=,~-]+$/.test(segment)

const seg = encodeURIComponent

/** `/v1/projects/{project}/streams/{bucket}/{type}/{id}` (URL-encoded), without a base. */
export const streamPath = (project: string, stream: StreamRef): string =>
  `/v1/projects/${seg(project)}/streams/${seg(stream.bucket)}/${seg(stream.aggregate_type)}/${seg(stream.aggregate_id)}`

export const appendPath = (project: string, stream: StreamRef): string => `${streamPath(project, stream)}/events:append`

export const readPath = (project: string, stream: StreamRef, afterPosition: number, limit: number): string =>
  `${streamPath(project, stream)}/events?after_position=${afterPosition}&limit=${limit}`

/**
 * Our extension, not in the Umrath protocol: events of many streams in one request and one
 * transaction, in order. A real Umrath answers 404 and the client goes stream by stream.
 */
export const appendBatchPath = (project: string): string => `/v1/projects/${seg(project)}/events:appendBatch`

export const AppendBatchRequest = Schema.Struct({
  events: Schema.Array(
    Schema.Struct({
      bucket: Schema.String,
      aggregate_type: Schema.String,
      aggregate_id: Schema.String,
      event_id: Schema.String,
      event_type: Schema.String,
      payload: JsonObject,
      metadata: Schema.optional(Schema.NullOr(JsonObject)),
    }),
  ),
})
export type AppendBatchRequest = typeof AppendBatchRequest.Type

export const listStreamsPath = (project: string, bucket: string): string =>
  `/v1/projects/${seg(project)}/streams/${seg(bucket)}`
