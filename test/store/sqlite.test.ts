import { describe, expect, it } from "@effect/vitest"
import Database from "better-sqlite3"
import { Chunk, Context, Effect, Either, Layer, Option, Stream, TestClock } from "effect"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { EventStore } from "../../src/store/event-store.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { eventStoreContract, newEvent, ref } from "./contract.js"

const dir = mkdtempSync(join(tmpdir(), "xmon-sqlite-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const freshPath = (name = "events") => join(dir, `${name}-${++files}.db`)

eventStoreContract("sqlite", () => SqliteEventStore.layer(freshPath()))
eventStoreContract("sqlite, 7-row pages", () => SqliteEventStore.layer(freshPath(), { pageSize: 7 }))

const all = <A, E>(stream: Stream.Stream<A, E>) => Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

/** The error the store's layer fails with when opening `path`. */
const openError = (path: string) =>
  Effect.flip(Effect.provide(Effect.void.pipe(Effect.zipRight(EventStore)), SqliteEventStore.layer(path)))

describe("SqliteEventStore", () => {
  it.effect("keeps its data across closing and reopening the file", () =>
    Effect.gen(function* () {
      const path = freshPath()
      const s = ref("DomainScan", "nic.cz")
      const events = [newEvent("a", { n: 1 }), newEvent("b", { n: 2 })]
      yield* Effect.flatMap(EventStore, (store) =>
        Effect.zipRight(store.append(s, events), store.saveCheckpoint({ name: "eval", value: "2" })),
      ).pipe(Effect.provide(SqliteEventStore.layer(path)))

      const reopened = yield* Effect.gen(function* () {
        const store = yield* EventStore
        const read = yield* all(store.readStream(s, 0))
        const more = yield* store.append(s, [newEvent("b"), newEvent("c")])
        const checkpoint = yield* store.loadCheckpoint("eval")
        return { read, more, checkpoint, after: yield* all(store.readStream(s, 0)) }
      }).pipe(Effect.provide(SqliteEventStore.layer(path)))

      expect(reopened.read.map((e) => [e.event_id, e.position, e.payload["n"]])).toEqual([
        ["a", 1, 1],
        ["b", 2, 2],
      ])
      expect(reopened.more).toEqual({ stored: 1, duplicates: 1 })
      expect(reopened.checkpoint).toEqual(Option.some("2"))
      expect(reopened.after.map((e) => e.position)).toEqual([1, 2, 3])
    }))

  it.effect("creates missing parent directories and uses WAL", () =>
    Effect.gen(function* () {
      const path = join(dir, "nested", `deeper-${++files}`, "events.db")
      yield* Effect.provide(
        Effect.flatMap(EventStore, (store) => store.append(ref("A", "1"), [newEvent(`wal-${files}`)])),
        SqliteEventStore.layer(path),
      )
      expect(existsSync(path)).toBe(true)
      const db = new Database(path, { readonly: true })
      try {
        expect(db.pragma("journal_mode", { simple: true })).toBe("wal")
        expect(db.prepare("SELECT count(*) FROM events").pluck().get()).toBe(1)
      } finally {
        db.close()
      }
    }))

  it.effect("refuses a file that is not a database, naming the path, and leaves it alone", () =>
    Effect.gen(function* () {
      const path = freshPath("text")
      const text = "this is a shopping list, not a database\n".repeat(200)
      writeFileSync(path, text)
      const error = yield* openError(path)
      expect(error._tag).toBe("StoreError")
      expect(error.operation).toBe("open")
      expect(error.transient).toBe(false)
      expect(error.message).toContain(path)
      expect(error.message).toContain("not an SQLite database")
      expect(readFileSync(path, "utf8")).toBe(text)
    }))

  it.effect("refuses a foreign SQLite database without changing it", () =>
    Effect.gen(function* () {
      const path = freshPath("foreign")
      const foreign = new Database(path)
      foreign.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ann')")
      foreign.close()

      const error = yield* openError(path)
      expect(error.message).toContain(path)
      expect(error.message).toContain("not an xmon event store")
      expect(error.transient).toBe(false)

      const db = new Database(path, { readonly: true })
      try {
        expect(db.pragma("journal_mode", { simple: true })).toBe("delete")
        expect(db.prepare("SELECT name FROM sqlite_master ORDER BY name").pluck().all()).toEqual(["users"])
      } finally {
        db.close()
      }
    }))

  it.effect("refuses a store of another schema version", () =>
    Effect.gen(function* () {
      const path = freshPath()
      yield* Effect.provide(Effect.void.pipe(Effect.zipRight(EventStore)), SqliteEventStore.layer(path))
      const db = new Database(path)
      db.pragma("user_version = 99")
      db.close()
      const error = yield* openError(path)
      expect(error.message).toContain(path)
      expect(error.message).toContain("schema version 99")
    }))

  it.effect("a batch that fails mid-way leaves neither its events nor its checkpoint", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const s = ref("TlsScan", "ep-1")
      yield* store.append(s, [newEvent("before")])
      yield* store.saveCheckpoint({ name: "eval", value: "old" })

      // The third event breaks a constraint (an empty id) after two rows were already inserted.
      const result = yield* Effect.either(
        store.appendBatch(
          [
            { stream: s, event: newEvent("one") },
            { stream: ref("TlsScan", "ep-2"), event: newEvent("two") },
            { stream: s, event: newEvent("") },
            { stream: s, event: newEvent("four") },
          ],
          [{ name: "eval", value: "new" }],
        ),
      )
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left.operation).toBe("appendBatch")
        expect(result.left.message).toContain("SQLITE_CONSTRAINT")
        expect(result.left.transient).toBe(false)
      }
      expect((yield* all(store.readBucket(s.bucket, 0))).map((e) => e.event_id)).toEqual(["before"])
      expect(yield* store.loadCheckpoint("eval")).toEqual(Option.some("old"))
      // The stream's positions continue as if the failed batch never happened.
      yield* store.append(s, [newEvent("one")])
      expect((yield* all(store.readStream(s, 0))).map((e) => e.position)).toEqual([1, 2])
    }).pipe(Effect.provide(SqliteEventStore.layer(freshPath()))))

  it.effect("a payload that cannot be stored as JSON is a StoreError, not a defect", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const error = yield* Effect.flip(store.append(ref("A", "1"), [newEvent("big", { n: 10n })]))
      expect(error.operation).toBe("append")
      expect(yield* all(store.readStream(ref("A", "1"), 0))).toEqual([])
    }).pipe(Effect.provide(SqliteEventStore.layer(freshPath()))))

  it.effect("recorded_at comes from the Clock", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* TestClock.setTime(Date.parse("2024-06-01T12:00:00Z"))
      yield* store.append(ref("A", "1"), [newEvent("first")])
      yield* TestClock.adjust("90 minutes")
      yield* store.appendBatch([{ stream: ref("A", "1"), event: newEvent("second") }])
      const read = yield* all(store.readStream(ref("A", "1"), 0))
      expect(read.map((e) => e.recorded_at)).toEqual(["2024-06-01T12:00:00.000Z", "2024-06-01T13:30:00.000Z"])
    }).pipe(Effect.provide(SqliteEventStore.layer(freshPath()))))

  it.effect("pages of exactly the page size end correctly", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const s = ref("A", "1")
      yield* store.append(
        s,
        Array.from({ length: 9 }, (_, i) => newEvent(`e${i}`)),
      )
      expect((yield* all(store.readStream(s, 0))).map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect((yield* all(store.readBucket(s.bucket, 2))).map((e) => e.position)).toEqual([3, 4, 5, 6, 7, 8, 9])
    }).pipe(Effect.provide(SqliteEventStore.layer(freshPath(), { pageSize: 3 }))))

  it.effect("two connections to one file keep one numbering per stream", () =>
    Effect.gen(function* () {
      const path = freshPath()
      const s = ref("HostnameScan", "www")
      // Two layers open at once: appends alternate between the connections.
      yield* Effect.gen(function* () {
        const a = yield* openStore(path)
        const b = yield* openStore(path)
        for (let i = 0; i < 6; i++) yield* (i % 2 === 0 ? a : b).append(s, [newEvent(`w${i}`)])
        const read = yield* all(a.readStream(s, 0))
        expect(read.map((e) => [e.position, e.event_id])).toEqual(
          Array.from({ length: 6 }, (_, i) => [i + 1, `w${i}`]),
        )
      }).pipe(Effect.scoped)
    }))

  it.effect("a write lock held elsewhere is a transient StoreError after the busy timeout", () =>
    Effect.gen(function* () {
      const path = freshPath()
      const store = yield* openStore(path, 50)
      const other = new Database(path)
      try {
        other.exec("BEGIN IMMEDIATE")
        const error = yield* Effect.flip(store.append(ref("A", "1"), [newEvent("blocked")]))
        expect(error.transient).toBe(true)
        expect(error.message).toContain("SQLITE_BUSY")
        other.exec("ROLLBACK")
        expect(yield* store.append(ref("A", "1"), [newEvent("blocked")])).toEqual({ stored: 1, duplicates: 0 })
      } finally {
        other.close()
      }
    }).pipe(Effect.scoped))
})

/** The store of a layer opened within the current scope. */
const openStore = (path: string, busyTimeoutMs?: number) =>
  Effect.map(
    Layer.build(
      SqliteEventStore.layer(path, busyTimeoutMs === undefined ? {} : { busyTimeoutMs }),
    ),
    (context) => Context.get(context, EventStore),
  )
