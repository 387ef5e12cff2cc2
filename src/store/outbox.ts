// Nothing lost when the store is down: raw events that could not be appended (after the store's own
// retries) wait in a local SQLite file, in the order they came, and the next run sends them first.
// Ids are the events' own, so sending one twice (a reply lost, a crash) is a counted duplicate.
import Database from "better-sqlite3"
import { Clock, Context, Data, Duration, Effect, Layer } from "effect"
import { mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import type { Addressed } from "../events/envelope.js"
import { EventStore } from "./event-store.js"

export class OutboxError extends Data.TaggedError("OutboxError")<{
  readonly path: string
  readonly operation: string
  readonly message: string
  readonly cause?: unknown
}> {}

export interface ParkedEvent {
  readonly seq: number
  readonly item: Addressed
}

export interface OutboxShape {
  readonly path: string
  /** Keep events for later, in order; an id already waiting is not kept twice. Returns how many were new. */
  readonly park: (batch: ReadonlyArray<Addressed>) => Effect.Effect<number, OutboxError>
  /** How many events wait. */
  readonly pending: Effect.Effect<number, OutboxError>
  /** The oldest waiting events, in the order they were parked. */
  readonly peek: (limit: number) => Effect.Effect<ReadonlyArray<ParkedEvent>, OutboxError>
  /** Forget every event parked up to and including `seq` (they are in the store now). */
  readonly remove: (throughSeq: number) => Effect.Effect<void, OutboxError>
  /** Serialises appendOrPark/flush, so their order is the outbox's order. */
  readonly withLock: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** When the store last failed us (Clock millis), so a dead store is not waited on for every batch. */
  readonly markDown: Effect.Effect<void>
  readonly markUp: Effect.Effect<void>
  /** True while the last failure is more recent than the cool-down. */
  readonly recentlyDown: Effect.Effect<boolean>
}

export class Outbox extends Context.Tag("xmon/Outbox")<Outbox, OutboxShape>() {
  /** The outbox file at `path` (created with its directory), open for the layer's lifetime. */
  static layer = (path: string, options: OutboxOptions = {}): Layer.Layer<Outbox, OutboxError> =>
    Layer.scoped(Outbox, make(path, options))
}

export interface OutboxOptions {
  /**
   * After a failure, batches go straight to the outbox for this long instead of each waiting out
   * the store's retries again. Default 10 s.
   */
  readonly coolDown?: Duration.DurationInput
}

/** Where the outbox of an output directory lives. */
export const outboxPathFor = (outputDir: string): string => join(outputDir, ".xmon", "outbox.db")

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  bucket TEXT NOT NULL,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  metadata TEXT NOT NULL
);
`

type Row = [number, string, string, string, string, string, string, string]

const make = (path: string, options: OutboxOptions) =>
  Effect.gen(function* () {
    const fail = (operation: string) => (cause: unknown) =>
      new OutboxError({
        path,
        operation,
        message: `outbox ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause,
      })
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          mkdirSync(dirname(path), { recursive: true })
          const db = new Database(path)
          db.pragma("journal_mode = WAL")
          // Parked events are the only copy: wait for the disk.
          db.pragma("synchronous = FULL")
          db.pragma("busy_timeout = 5000")
          db.exec(SCHEMA)
          return db
        },
        catch: fail("open"),
      }),
      (db) => Effect.sync(() => db.open && db.close()),
    )
    const insert = db.prepare(
      `INSERT OR IGNORE INTO outbox (event_id, bucket, aggregate_type, aggregate_id, event_type, payload, metadata)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    const count = db.prepare("SELECT COUNT(*) FROM outbox").pluck()
    const oldest = db
      .prepare(
        `SELECT seq, event_id, bucket, aggregate_type, aggregate_id, event_type, payload, metadata
         FROM outbox ORDER BY seq LIMIT ?`,
      )
      .raw()
    const removeThrough = db.prepare("DELETE FROM outbox WHERE seq <= ?")
    const parkAll = db.transaction((batch: ReadonlyArray<Addressed>) => {
      let added = 0
      for (const { stream, event } of batch) {
        added += insert.run(
          event.event_id,
          stream.bucket,
          stream.aggregate_type,
          stream.aggregate_id,
          event.event_type,
          JSON.stringify(event.payload),
          JSON.stringify(event.metadata),
        ).changes
      }
      return added
    })

    const lock = yield* Effect.makeSemaphore(1)
    let downAt: number | undefined
    const coolDown = Duration.toMillis(options.coolDown ?? "10 seconds")

    const outbox: OutboxShape = {
      path,
      park: (batch) => Effect.try({ try: () => parkAll(batch), catch: fail("park") }),
      pending: Effect.try({ try: () => Number(count.get()), catch: fail("pending") }),
      peek: (limit) =>
        Effect.try({
          try: () =>
            (oldest.all(limit) as Array<Row>).map(
              ([seq, event_id, bucket, aggregate_type, aggregate_id, event_type, payload, metadata]): ParkedEvent => ({
                seq,
                item: {
                  stream: { bucket, aggregate_type, aggregate_id },
                  event: { event_id, event_type, payload: JSON.parse(payload), metadata: JSON.parse(metadata) },
                },
              }),
            ),
          catch: fail("peek"),
        }),
      remove: (throughSeq) =>
        Effect.try({
          try: () => {
            removeThrough.run(throughSeq)
          },
          catch: fail("remove"),
        }),
      withLock: (effect) => lock.withPermits(1)(effect),
      markDown: Effect.map(Clock.currentTimeMillis, (now) => {
        downAt = now
      }),
      markUp: Effect.sync(() => {
        downAt = undefined
      }),
      recentlyDown: Effect.map(Clock.currentTimeMillis, (now) => downAt !== undefined && now - downAt < coolDown),
    }
    return outbox
  })

/** Events per appendBatch while flushing. */
const FLUSH_CHUNK = 500

export interface AppendOrParkResult {
  readonly stored: number
  readonly duplicates: number
  /** Events written to the outbox instead (the store failed, or older events still wait). */
  readonly parked: number
}

export interface FlushResult {
  readonly flushed: number
  readonly remaining: number
}

/** The flush loop, without the lock; fails at the first store failure, keeping what is left. */
const flushUnlocked = (store: EventStore["Type"], outbox: OutboxShape) =>
  Effect.gen(function* () {
    let flushed = 0
    for (;;) {
      const parked = yield* outbox.peek(FLUSH_CHUNK)
      if (parked.length === 0) break
      yield* store.appendBatch(parked.map((p) => p.item)).pipe(Effect.tapError(() => outbox.markDown))
      yield* outbox.remove(parked.at(-1)!.seq)
      flushed += parked.length
    }
    yield* outbox.markUp
    return { flushed, remaining: 0 } satisfies FlushResult
  })

/**
 * Send everything waiting in the outbox, oldest first, in chunks; each chunk leaves the outbox once
 * the store has it. Run it first thing. Fails with the store's error when the store fails; what was
 * sent so far is gone from the outbox, the rest stays.
 */
export const flush = Effect.fn("Outbox.flush")(function* () {
  const store = yield* EventStore
  const outbox = yield* Outbox
  return yield* outbox.withLock(flushUnlocked(store, outbox))
})

/**
 * Append a batch, or park it. While older events wait in the outbox, new ones wait behind them (a
 * stream's order holds); a flush is tried first unless the store failed within the cool-down. Only
 * an outbox that cannot be written fails this: the store's failures become `parked`.
 */
export const appendOrPark = Effect.fn("Outbox.appendOrPark")(function* (batch: ReadonlyArray<Addressed>) {
  const store = yield* EventStore
  const outbox = yield* Outbox
  return yield* outbox.withLock(
    Effect.gen(function* () {
      if (batch.length === 0) return { stored: 0, duplicates: 0, parked: 0 }
      const park = Effect.map(outbox.park(batch), (): AppendOrParkResult => ({ stored: 0, duplicates: 0, parked: batch.length }))
      if ((yield* outbox.pending) > 0) {
        if (yield* outbox.recentlyDown) return yield* park
        const flushed = yield* flushUnlocked(store, outbox).pipe(
          Effect.as(true),
          Effect.catchTag("StoreError", (e) => Effect.as(Effect.logWarning(`store still failing: ${e.message}`), false)),
        )
        if (!flushed) return yield* park
      } else if (yield* outbox.recentlyDown) {
        return yield* park
      }
      return yield* store.appendBatch(batch).pipe(
        Effect.map((r): AppendOrParkResult => ({ ...r, parked: 0 })),
        Effect.tap(() => outbox.markUp),
        Effect.catchTag("StoreError", (e) =>
          Effect.zipRight(
            Effect.zipRight(outbox.markDown, Effect.logWarning(`store failed, ${batch.length} events parked in ${outbox.path}: ${e.message}`)),
            park,
          ),
        ),
      )
    }),
  )
})

/** How many events wait, for the end-of-run report. */
export const pending: Effect.Effect<number, OutboxError, Outbox> = Effect.flatMap(Outbox, (o) => o.pending)
