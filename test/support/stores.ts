// Test helpers: SQLite store files in a temp directory, and the fixture history as batches.
import { Effect, Stream } from "effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import type { Addressed, StoredEvent } from "../../src/events/envelope.js"
import { EventStore } from "../../src/store/event-store.js"

/** A temp directory removed after the test file; `file(name)` names a path inside it. */
export const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  let n = 0
  return { dir, file: (name = "events.db") => join(dir, `${++n}-${name}`) }
}

/** The committed fixture history (the export line format), as appendable events, in order. */
export const fixtureHistory = (): ReadonlyArray<Addressed> =>
  readFileSync(new URL("../../fixtures/history.jsonl", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const e = JSON.parse(line)
      return {
        stream: { bucket: e.bucket, aggregate_type: e.aggregate_type, aggregate_id: e.aggregate_id },
        event: { event_id: e.event_id, event_type: e.event_type, payload: e.payload, metadata: e.metadata },
      }
    })

/** Everything in a bucket, in store order. */
export const readAll = (bucket: string) =>
  Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readBucket(bucket, 0))).pipe(
    Effect.map((chunk) => [...chunk]),
  )

/** What two stores must agree on: all but the moment each was written. */
export const comparable = (events: ReadonlyArray<StoredEvent>) =>
  events.map(({ recorded_at: _r, ...rest }) => rest)
