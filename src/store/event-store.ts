// The one interface every event store implements (SQLite embedded, Umrath over HTTP).
import { Context, Data } from "effect"
import type { Effect, Option, Stream } from "effect"
import type { Addressed, NewEvent, StoredEvent, StreamRef } from "../events/envelope.js"

/** The store could not do what was asked; `transient` says whether a retry may help. */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly store: string
  readonly operation: string
  readonly message: string
  readonly transient: boolean
  readonly cause?: unknown
}> {}

export interface AppendResult {
  /** Events newly written. */
  readonly stored: number
  /** Events whose `event_id` was already in the store: a no-op, not an error. */
  readonly duplicates: number
}

/** A named value saved with (and, where the store can, in the same transaction as) a batch. */
export interface CheckpointWrite {
  readonly name: string
  readonly value: string
}

export interface StreamInfo extends StreamRef {
  /** Number of events, which is also the position of the last one. */
  readonly length: number
}

export interface EventStoreShape {
  /** `sqlite:/path/events.db` or `umrath:http://…`, for messages. */
  readonly describe: string
  /** Append to one stream, in order. Idempotent by `event_id`. */
  readonly append: (stream: StreamRef, events: ReadonlyArray<NewEvent>) => Effect.Effect<AppendResult, StoreError>
  /**
   * Append events of many streams in the given order, then save the checkpoints. The SQLite store
   * does all of it in one transaction; others do it in order, which idempotent ids make safe.
   */
  readonly appendBatch: (
    batch: ReadonlyArray<Addressed>,
    checkpoints?: ReadonlyArray<CheckpointWrite>,
  ) => Effect.Effect<AppendResult, StoreError>
  /** Events of one stream with `position > afterPosition`, in order. */
  readonly readStream: (stream: StreamRef, afterPosition: number) => Stream.Stream<StoredEvent, StoreError>
  /** Every event of a bucket in the store's one total order, with `global_position > after`. */
  readonly readBucket: (bucket: string, afterGlobalPosition: number) => Stream.Stream<StoredEvent, StoreError>
  /** The streams of a bucket, sorted by aggregate type then id. */
  readonly listStreams: (bucket: string) => Effect.Effect<ReadonlyArray<StreamInfo>, StoreError>
  /**
   * Optional, for servers: up to `limit` events of a stream after a position, as the JSON text of
   * an array of wire events (`event_id, event_type, payload, metadata, position, recorded_at,
   * global_position`), spliced from the stored text without parsing a payload.
   */
  readonly readStreamPageJson?: (
    stream: StreamRef,
    afterPosition: number,
    limit: number,
  ) => Effect.Effect<{ readonly json: string; readonly count: number; readonly lastPosition: number }, StoreError>
  readonly loadCheckpoint: (name: string) => Effect.Effect<Option.Option<string>, StoreError>
  readonly saveCheckpoint: (checkpoint: CheckpointWrite) => Effect.Effect<void, StoreError>
}

export class EventStore extends Context.Tag("xmon/EventStore")<EventStore, EventStoreShape>() {}
