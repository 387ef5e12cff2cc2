// The envelope every stored event travels in, on the wire (Umrath) and in SQLite.
import { Schema } from "effect"

export const SCAN_BUCKET = "recon-scan"
export const EVAL_BUCKET = "recon-eval"

/** Metadata the original writes on each layer; kept verbatim so old consumers keep working. */
export const SCAN_METADATA = { source: "ezrecon", layer: "scan", version: "1.0" } as const
export const EVAL_METADATA = { source: "ezrecon-evaluator", layer: "eval", version: "1.0" } as const

/** A JSON object whose keys we do not know in advance (payload, metadata). */
export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
export type JsonObject = typeof JsonObject.Type

/** Bucket, aggregate type and id name one stream: `recon-scan/TlsScan/ep-1`. */
export const StreamRef = Schema.Struct({
  bucket: Schema.String,
  aggregate_type: Schema.String,
  aggregate_id: Schema.String,
})
export type StreamRef = typeof StreamRef.Type

export const streamKey = (ref: StreamRef): string => `${ref.bucket}/${ref.aggregate_type}/${ref.aggregate_id}`

/** What a producer hands to `append`: the four fields of the Umrath append body. */
export const NewEvent = Schema.Struct({
  event_id: Schema.String,
  event_type: Schema.String,
  payload: JsonObject,
  metadata: JsonObject,
})
export type NewEvent = typeof NewEvent.Type

/**
 * An event once stored. `position` is its 1-based place in its own stream (Umrath's
 * `after_position`); `global_position` its place in the store's one total order of the bucket.
 */
export const StoredEvent = Schema.Struct({
  ...StreamRef.fields,
  ...NewEvent.fields,
  position: Schema.Number,
  global_position: Schema.Number,
  recorded_at: Schema.String,
})
export type StoredEvent = typeof StoredEvent.Type

/** A new event addressed to its stream: the unit of a batch append. */
export interface Addressed {
  readonly stream: StreamRef
  readonly event: NewEvent
}
