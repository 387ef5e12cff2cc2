// The embedded EventStore: one SQLite file (better-sqlite3, WAL), no server.
import Database from "better-sqlite3"
import { Chunk, Clock, Effect, Layer, Option, Stream } from "effect"
import { mkdirSync } from "node:fs"
import { dirname, resolve } from "node:path"
import type { Addressed, StoredEvent, StreamRef } from "../events/envelope.js"
import type { AppendResult, CheckpointWrite, EventStoreShape, StreamInfo } from "./event-store.js"
import { EventStore, StoreError } from "./event-store.js"

/** Marks a file as an xmon store (`PRAGMA application_id`, the ASCII of "xmon"). */
export const APPLICATION_ID = 0x786d6f6e
/** Bumped whenever the tables below change shape; a newer file is refused, never misread. */
export const SCHEMA_VERSION = 1

/** Table and column names, for code that reads the file directly (the benchmark's floor). */
export const EVENTS_TABLE = "events"
export const CHECKPOINTS_TABLE = "checkpoints"
export const EventColumns = {
  globalPosition: "global_position",
  bucket: "bucket",
  aggregateType: "aggregate_type",
  aggregateId: "aggregate_id",
  position: "position",
  eventId: "event_id",
  eventType: "event_type",
  payload: "payload",
  metadata: "metadata",
  recordedAt: "recorded_at",
} as const

// AUTOINCREMENT so a global position is never reused, even if the newest rows of a bucket are
// deleted: a consumer's checkpoint (a global position) must never skip a later event.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS ${EVENTS_TABLE} (
  global_position INTEGER PRIMARY KEY AUTOINCREMENT,
  bucket          TEXT NOT NULL CHECK (length(bucket) > 0),
  aggregate_type  TEXT NOT NULL CHECK (length(aggregate_type) > 0),
  aggregate_id    TEXT NOT NULL CHECK (length(aggregate_id) > 0),
  position        INTEGER NOT NULL CHECK (position >= 1),
  event_id        TEXT NOT NULL UNIQUE CHECK (length(event_id) > 0),
  event_type      TEXT NOT NULL CHECK (length(event_type) > 0),
  payload         TEXT NOT NULL,
  metadata        TEXT NOT NULL,
  recorded_at     TEXT NOT NULL,
  UNIQUE (bucket, aggregate_type, aggregate_id, position)
);
CREATE INDEX IF NOT EXISTS events_by_bucket ON ${EVENTS_TABLE} (bucket, global_position);
CREATE TABLE IF NOT EXISTS ${CHECKPOINTS_TABLE} (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`

const SELECT_COLUMNS =
  "global_position, bucket, aggregate_type, aggregate_id, position, event_id, event_type, payload, metadata, recorded_at"

export interface SqliteOptions {
  /** Rows per read page (default 1000). */
  readonly pageSize?: number
  /** How long a write waits for another writer's lock before failing as transient (default 5000 ms). */
  readonly busyTimeoutMs?: number
}

type Row = [number, string, string, string, number, string, string, string, string, string]

const isTransientCode = (code: unknown): boolean =>
  typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))

const errorCode = (cause: unknown): string | undefined =>
  typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined

const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

const storeError = (path: string, operation: string, cause: unknown): StoreError => {
  const code = errorCode(cause)
  return new StoreError({
    store: `sqlite:${path}`,
    operation,
    message: `${operation} on ${path} failed: ${code ? `${code}: ` : ""}${errorText(cause)}`,
    transient: isTransientCode(code),
    cause,
  })
}

/**
 * Decide whether the file is ours before touching it: a fresh (empty) database gets the schema,
 * our own file is accepted at our schema version, anything else is refused untouched.
 */
const prepareFile = (db: Database.Database, path: string): void => {
  const check = db.transaction(() => {
    const appId = db.pragma("application_id", { simple: true }) as number
    const version = db.pragma("user_version", { simple: true }) as number
    const objects = db.prepare("SELECT count(*) FROM sqlite_master").pluck().get() as number
    if (appId === 0 && version === 0 && objects === 0) {
      db.exec(SCHEMA)
      db.pragma(`application_id = ${APPLICATION_ID}`)
      db.pragma(`user_version = ${SCHEMA_VERSION}`)
      return
    }
    if (appId !== APPLICATION_ID) {
      throw new StoreError({
        store: `sqlite:${path}`,
        operation: "open",
        message: `${path} is an SQLite database but not an xmon event store (application_id ${appId}, ${objects} schema objects)`,
        transient: false,
      })
    }
    if (version !== SCHEMA_VERSION) {
      throw new StoreError({
        store: `sqlite:${path}`,
        operation: "open",
        message: `${path} is an xmon event store of schema version ${version}; this xmon reads version ${SCHEMA_VERSION}`,
        transient: false,
      })
    }
  })
  // IMMEDIATE: two processes creating the same fresh file must not both create it.
  check.immediate()
}

const openDatabase = (path: string, busyTimeoutMs: number) =>
  Effect.try({
    try: () => {
      mkdirSync(dirname(path), { recursive: true })
      const db = new Database(path)
      try {
        db.pragma(`busy_timeout = ${busyTimeoutMs}`)
        prepareFile(db, path)
        db.pragma("journal_mode = WAL")
        // NORMAL in WAL mode survives a killed process; only a power cut may lose the last commits.
        db.pragma("synchronous = NORMAL")
        // A 64 MiB page cache: appends land in two unique indexes keyed by random-looking ids, and
        // SQLite's 2 MiB default turns each into page faults once the store holds a million events.
        db.pragma("cache_size = -65536")
        return db
      } catch (e) {
        db.close()
        throw e
      }
    },
    catch: (cause) => {
      if (cause instanceof StoreError) return cause
      if (errorCode(cause) === "SQLITE_NOTADB") {
        return new StoreError({
          store: `sqlite:${path}`,
          operation: "open",
          message: `${path} is not an SQLite database, so not an xmon event store`,
          transient: false,
          cause,
        })
      }
      return storeError(path, "open", cause)
    },
  })

/** A stream's three names as one map key; NUL cannot be confused with any character of a name. */
const streamMapKey = (ref: StreamRef): string => `${ref.bucket}\u0000${ref.aggregate_type}\u0000${ref.aggregate_id}`

interface Encoded {
  readonly stream: StreamRef
  readonly key: string
  readonly eventId: string
  readonly eventType: string
  readonly payload: string
  readonly metadata: string
}

const make = (db: Database.Database, path: string, pageSize: number): EventStoreShape => {
  const describe = `sqlite:${path}`
  const insert = db.prepare(
    `INSERT INTO ${EVENTS_TABLE} (bucket, aggregate_type, aggregate_id, position, event_id, event_type, payload, metadata, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
  )
  const lastPosition = db
    .prepare(`SELECT max(position) FROM ${EVENTS_TABLE} WHERE bucket = ? AND aggregate_type = ? AND aggregate_id = ?`)
    .pluck()
  const upsertCheckpoint = db.prepare(
    `INSERT INTO ${CHECKPOINTS_TABLE} (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
  )
  const selectCheckpoint = db.prepare(`SELECT value FROM ${CHECKPOINTS_TABLE} WHERE name = ?`).pluck()
  const streamPage = db
    .prepare(
      `SELECT ${SELECT_COLUMNS} FROM ${EVENTS_TABLE}
       WHERE bucket = ? AND aggregate_type = ? AND aggregate_id = ? AND position > ?
       ORDER BY position LIMIT ?`,
    )
    .raw()
  const streamPageText = db
    .prepare(
      `SELECT event_id, event_type, payload, metadata, position, recorded_at, global_position FROM ${EVENTS_TABLE}
       WHERE bucket = ? AND aggregate_type = ? AND aggregate_id = ? AND position > ?
       ORDER BY position LIMIT ?`,
    )
    .raw()
  const bucketPage = db
    .prepare(
      `SELECT ${SELECT_COLUMNS} FROM ${EVENTS_TABLE}
       WHERE bucket = ? AND global_position > ? ORDER BY global_position LIMIT ?`,
    )
    .raw()
  const streamsOf = db
    .prepare(
      `SELECT aggregate_type, aggregate_id, max(position) FROM ${EVENTS_TABLE}
       WHERE bucket = ? GROUP BY aggregate_type, aggregate_id ORDER BY aggregate_type, aggregate_id`,
    )
    .raw()

  const write = db.transaction(
    (events: ReadonlyArray<Encoded>, checkpoints: ReadonlyArray<CheckpointWrite>, recordedAt: string) => {
      const next = new Map<string, number>()
      let stored = 0
      let duplicates = 0
      for (const e of events) {
        const s = e.stream
        let last = next.get(e.key)
        if (last === undefined) {
          last = (lastPosition.get(s.bucket, s.aggregate_type, s.aggregate_id) as number | null) ?? 0
        }
        const info = insert.run(
          s.bucket,
          s.aggregate_type,
          s.aggregate_id,
          last + 1,
          e.eventId,
          e.eventType,
          e.payload,
          e.metadata,
          recordedAt,
        )
        if (info.changes === 1) {
          stored++
          last++
        } else {
          duplicates++
        }
        next.set(e.key, last)
      }
      for (const c of checkpoints) upsertCheckpoint.run(c.name, c.value)
      return { stored, duplicates }
    },
  )

  const encode = (operation: string, batch: ReadonlyArray<Addressed>) =>
    Effect.try({
      try: () =>
        batch.map(
          ({ stream, event }): Encoded => ({
            stream,
            key: streamMapKey(stream),
            eventId: event.event_id,
            eventType: event.event_type,
            payload: JSON.stringify(event.payload),
            metadata: JSON.stringify(event.metadata),
          }),
        ),
      catch: (cause) => storeError(path, operation, cause),
    })

  const appendAll = (operation: string, batch: ReadonlyArray<Addressed>, checkpoints: ReadonlyArray<CheckpointWrite>) =>
    Effect.gen(function* () {
      if (batch.length === 0 && checkpoints.length === 0) return { stored: 0, duplicates: 0 } satisfies AppendResult
      const encoded = yield* encode(operation, batch)
      const recordedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
      return yield* Effect.try({
        // IMMEDIATE takes the write lock up front, so a busy store waits (busy_timeout) instead of
        // failing when a read transaction would have to be upgraded.
        try: (): AppendResult => write.immediate(encoded, checkpoints, recordedAt),
        catch: (cause) => storeError(path, operation, cause),
      })
    })

  // Metadata is nearly always the same text from row to row: parse it once and share the
  // (read-only) object, which saves a JSON.parse per event on long reads.
  let lastMetadataText: string | undefined
  let lastMetadata: StoredEvent["metadata"] = {}
  const toEvent = (row: Row): StoredEvent => {
    const metadataText = row[8]
    if (metadataText !== lastMetadataText) {
      lastMetadata = JSON.parse(metadataText)
      lastMetadataText = metadataText
    }
    return {
      global_position: row[0],
      bucket: row[1],
      aggregate_type: row[2],
      aggregate_id: row[3],
      position: row[4],
      event_id: row[5],
      event_type: row[6],
      payload: JSON.parse(row[7]),
      metadata: lastMetadata,
      recorded_at: row[9],
    }
  }

  /** One page as a chunk, and the cursor of the next page unless this one was short. */
  const page = (operation: string, fetch: () => Array<Row>, cursorOf: (row: Row) => number) =>
    Effect.try({
      try: (): readonly [Chunk.Chunk<StoredEvent>, Option.Option<number>] => {
        const rows = fetch()
        const events = new Array<StoredEvent>(rows.length)
        for (let i = 0; i < rows.length; i++) events[i] = toEvent(rows[i]!)
        const last = rows[rows.length - 1]
        return [
          Chunk.unsafeFromArray(events),
          rows.length < pageSize || last === undefined ? Option.none() : Option.some(cursorOf(last)),
        ]
      },
      catch: (cause) => storeError(path, operation, cause),
    })

  return {
    describe,
    append: (stream, events) =>
      appendAll(
        "append",
        events.map((event) => ({ stream, event })),
        [],
      ),
    appendBatch: (batch, checkpoints = []) => appendAll("appendBatch", batch, checkpoints),
    readStream: (stream, afterPosition) =>
      Stream.paginateChunkEffect(afterPosition, (after) =>
        page(
          "readStream",
          () =>
            streamPage.all(stream.bucket, stream.aggregate_type, stream.aggregate_id, after, pageSize) as Array<Row>,
          (row) => row[4],
        ),
      ),
    readBucket: (bucket, afterGlobalPosition) =>
      Stream.paginateChunkEffect(afterGlobalPosition, (after) =>
        page("readBucket", () => bucketPage.all(bucket, after, pageSize) as Array<Row>, (row) => row[0]),
      ),
    readStreamPageJson: (stream, afterPosition, limit) =>
      Effect.try({
        try: () => {
          const rows = streamPageText.all(stream.bucket, stream.aggregate_type, stream.aggregate_id, afterPosition, limit) as Array<
            [string, string, string, string, number, string, number]
          >
          // payload and metadata were written by JSON.stringify: valid JSON text, spliced as it is.
          const parts = rows.map(
            ([eventId, eventType, payload, metadata, position, recordedAt, globalPosition]) =>
              `{"event_id":${JSON.stringify(eventId)},"event_type":${JSON.stringify(eventType)},"payload":${payload},` +
              `"metadata":${metadata},"position":${position},"recorded_at":${JSON.stringify(recordedAt)},"global_position":${globalPosition}}`,
          )
          return { json: `[${parts.join(",")}]`, count: rows.length, lastPosition: rows.at(-1)?.[4] ?? afterPosition }
        },
        catch: (cause) => storeError(path, "readStream", cause),
      }),
    listStreams: (bucket) =>
      Effect.try({
        try: () =>
          (streamsOf.all(bucket) as Array<[string, string, number]>).map(
            ([aggregate_type, aggregate_id, length]): StreamInfo => ({ bucket, aggregate_type, aggregate_id, length }),
          ),
        catch: (cause) => storeError(path, "listStreams", cause),
      }),
    loadCheckpoint: (name) =>
      Effect.try({
        try: () => Option.fromNullable(selectCheckpoint.get(name) as string | undefined),
        catch: (cause) => storeError(path, "loadCheckpoint", cause),
      }),
    saveCheckpoint: ({ name, value }) =>
      Effect.try({
        try: () => {
          upsertCheckpoint.run(name, value)
        },
        catch: (cause) => storeError(path, "saveCheckpoint", cause),
      }),
  }
}

/** Open (creating if missing) the store at `path` for the layer's lifetime. */
export const layer = (path: string, options: SqliteOptions = {}): Layer.Layer<EventStore, StoreError> => {
  const file = resolve(path)
  const pageSize = Math.max(1, Math.floor(options.pageSize ?? 1000))
  return Layer.scoped(
    EventStore,
    Effect.acquireRelease(openDatabase(file, options.busyTimeoutMs ?? 5000), (db) =>
      Effect.sync(() => {
        if (db.open) db.close()
      }),
    ).pipe(Effect.map((db) => make(db, file, pageSize))),
  )
}

export const SqliteEventStore = { layer } as const
