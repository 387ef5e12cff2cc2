// An EventStore whose raw appends never lose an event: what the store will not take (after its
// own retries) waits in the outbox, and the outbox is sent first when the layer starts.
import { Context, Effect, Layer } from "effect"
import { EventStore, StoreError } from "./event-store.js"
import { appendOrPark, flush, Outbox, type OutboxError } from "./outbox.js"

const asStoreError = (e: OutboxError): StoreError =>
  new StoreError({ store: `outbox:${e.path}`, operation: e.operation, message: e.message, transient: false, cause: e })

/**
 * Wraps the EventStore below it. Appends with checkpoints (the evaluator's) pass straight through:
 * a checkpoint must never run ahead of what it records.
 */
export const outboxedStore = (outboxPath: string): Layer.Layer<EventStore | Outbox, OutboxError, EventStore> =>
  Layer.effect(
    EventStore,
    Effect.gen(function* () {
      const inner = yield* EventStore
      const outbox = yield* Outbox
      const context = Context.make(EventStore, inner).pipe(Context.add(Outbox, outbox))
      const waiting = yield* outbox.pending
      if (waiting > 0) {
        yield* flush().pipe(
          Effect.provide(context),
          Effect.tap((r) => Effect.logInfo(`sent ${r.flushed} events that waited in ${outbox.path} since an earlier run`)),
          Effect.catchTag("StoreError", (e) =>
            Effect.logWarning(`${waiting} events still wait in ${outbox.path}: the store is failing (${e.message})`),
          ),
        )
      }
      const appendBatch: EventStore["Type"]["appendBatch"] = (batch, checkpoints) =>
        checkpoints !== undefined && checkpoints.length > 0
          ? inner.appendBatch(batch, checkpoints)
          : appendOrPark(batch).pipe(
              Effect.provide(context),
              Effect.map(({ stored, duplicates }) => ({ stored, duplicates })),
              Effect.mapError(asStoreError),
            )
      return {
        ...inner,
        describe: `${inner.describe} (outbox ${outbox.path})`,
        appendBatch,
        append: (stream, events) => appendBatch(events.map((event) => ({ stream, event }))),
      }
    }),
  ).pipe(Layer.provideMerge(Outbox.layer(outboxPath)))
