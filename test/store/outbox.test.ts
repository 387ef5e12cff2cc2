// Nothing lost: what the store cannot take waits in the outbox and the next run sends it first,
// in order, without duplicates. The last test kills a real store server process with SIGKILL
// in the middle of an import.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream } from "effect"
import type { Scope } from "effect"
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import { existsSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Addressed, StreamRef } from "../../src/events/envelope.js"
import { EventStore } from "../../src/store/event-store.js"
import { Outbox, appendOrPark, flush, outboxPathFor, pending } from "../../src/store/outbox.js"
import type { AppendOrParkResult } from "../../src/store/outbox.js"
import { SqliteEventStore } from "../../src/store/sqlite.js"
import { UmrathEventStore } from "../../src/store/umrath.js"
import { scopedTempDir, startTestServer } from "../support/store-server.js"

const streams: ReadonlyArray<StreamRef> = Array.from({ length: 8 }, (_, i) => ({
  bucket: "recon-scan",
  aggregate_type: "HostnameScan",
  aggregate_id: `host-${i}`,
}))

const makeBatches = (prefix: string, count: number, size: number): ReadonlyArray<ReadonlyArray<Addressed>> =>
  Array.from({ length: count }, (_, b) =>
    Array.from({ length: size }, (_, j) => {
      const n = b * size + j
      return {
        stream: streams[n % streams.length]!,
        event: {
          event_id: `${prefix}-${n}`,
          event_type: "HostnameScanResult",
          payload: { n, hostname: `host-${n % streams.length}`, scanned_at: "2024-05-01T00:00:00Z" },
          metadata: { source: "ezrecon", layer: "scan", version: "1.0" },
        },
      }
    }),
  )

/** A loopback port with nobody listening. */
const deadPort = Effect.async<number>((resume) => {
  const s = Http.createServer()
  s.listen(0, "127.0.0.1", () => {
    const { port } = s.address() as AddressInfo
    s.close(() => resume(Effect.succeed(port)))
  })
})

const client = (url: string, dir: string) =>
  UmrathEventStore.layer({
    url,
    checkpointFile: join(dir, "cp.json"),
    requestTimeout: "1 second",
    connectTimeout: "500 millis",
    retry: { baseMillis: 5, capMillis: 20, maxRetries: 3, maxRetryAfterMillis: 50 },
  })

const readAll = Effect.flatMap(EventStore, (store) =>
  Effect.map(Stream.runCollect(store.readBucket("recon-scan", 0)), Chunk.toReadonlyArray),
)

const sum = (results: ReadonlyArray<AppendOrParkResult>) =>
  results.reduce(
    (a, r) => ({ stored: a.stored + r.stored, duplicates: a.duplicates + r.duplicates, parked: a.parked + r.parked }),
    { stored: 0, duplicates: 0, parked: 0 },
  )

/** Per stream, the ids in the order they were produced. */
const perStream = (items: ReadonlyArray<{ readonly aggregate_id: string; readonly event_id: string }>) => {
  const out = new Map<string, Array<string>>()
  for (const i of items) out.set(i.aggregate_id, [...(out.get(i.aggregate_id) ?? []), i.event_id])
  return out
}

describe("outbox", () => {
  it.scopedLive("parks what a dead store refuses, then the next run flushes it first, in order, once", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir("xmon-outbox-")
      const outboxFile = outboxPathFor(dir)
      const batches = makeBatches("dead", 6, 40)

      // Run 1: the store is down. Only the first batch waits out the retries; the rest go straight to the outbox.
      const port = yield* deadPort
      const started = performance.now()
      const first = yield* Effect.forEach(batches.slice(0, 4), (b) => appendOrPark(b)).pipe(
        Effect.provide(Layer.merge(client(`http://127.0.0.1:${port}`, dir), Outbox.layer(outboxFile))),
      )
      expect(performance.now() - started).toBeLessThan(5_000)
      expect(sum(first)).toEqual({ stored: 0, duplicates: 0, parked: 160 })
      expect(existsSync(outboxFile)).toBe(true)

      // Run 2: a store is up. The flush goes first; then new batches go straight in.
      const server = yield* startTestServer({ dir })
      const run2 = yield* Effect.gen(function* () {
        expect(yield* pending).toBe(160)
        // Parking an id again does not keep it twice.
        expect(yield* Effect.flatMap(Outbox, (o) => o.park(batches[0]!))).toBe(0)
        const flushed = yield* flush()
        const rest = yield* Effect.forEach(batches.slice(4), (b) => appendOrPark(b))
        return { flushed, rest: sum(rest), left: yield* pending }
      }).pipe(Effect.provide(Layer.merge(client(server.url, dir), Outbox.layer(outboxFile))))
      expect(run2).toEqual({ flushed: { flushed: 160, remaining: 0 }, rest: { stored: 80, duplicates: 0, parked: 0 }, left: 0 })

      const stored = yield* Effect.provide(readAll, server.direct)
      expect(stored.map((e) => e.event_id)).toEqual(batches.flat().map((a) => a.event.event_id))
    }))

  it.scopedLive("new batches wait behind parked ones while the store is still down", () =>
    Effect.gen(function* () {
      const dir = yield* scopedTempDir("xmon-outbox-")
      const batches = makeBatches("order", 3, 10)
      const port = yield* deadPort
      const outboxLayer = Outbox.layer(outboxPathFor(dir), { coolDown: "0 millis" })
      const result = yield* Effect.gen(function* () {
        const results = yield* Effect.forEach(batches, (b) => appendOrPark(b))
        const waiting = yield* Effect.flatMap(Outbox, (o) => o.peek(100))
        const flushError = yield* Effect.flip(flush())
        return { results: sum(results), waiting: waiting.map((p) => p.item.event.event_id), flushError, left: yield* pending }
      }).pipe(Effect.provide(Layer.merge(client(`http://127.0.0.1:${port}`, dir), outboxLayer)))
      expect(result.results).toEqual({ stored: 0, duplicates: 0, parked: 30 })
      expect(result.waiting).toEqual(batches.flat().map((a) => a.event.event_id))
      expect(result.flushError._tag === "StoreError" && result.flushError.transient).toBe(true)
      expect(result.left).toBe(30)
    }))
})

// ---- a store server in a child process, killed with SIGKILL mid-import ----

const childScript = fileURLToPath(new URL("../support/serve-child.mjs", import.meta.url))
const distServer = fileURLToPath(new URL("../../dist/store/server.js", import.meta.url))

/** Start `serve-child.mjs DB` and wait for its URL; SIGKILL it when the scope closes (if still alive). */
const startChild = (dbPath: string): Effect.Effect<{ url: string; child: ChildProcess }, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ url: string; child: ChildProcess }, Error>((resume) => {
      const child = spawn(process.execPath, [childScript, dbPath], { stdio: ["ignore", "pipe", "pipe"] })
      let out = ""
      let err = ""
      const timer = setTimeout(() => {
        child.kill("SIGKILL")
        resume(Effect.fail(new Error(`store server child did not start: ${err}`)))
      }, 15_000)
      child.stderr!.on("data", (c: Buffer) => (err += c.toString()))
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString()
        const line = out.split("\n")[0]
        if (out.includes("\n") && line) {
          clearTimeout(timer)
          resume(Effect.succeed({ url: (JSON.parse(line) as { url: string }).url, child }))
        }
      })
      child.on("exit", (code) => {
        clearTimeout(timer)
        resume(Effect.fail(new Error(`store server child exited (${code}): ${err}`)))
      })
    }),
    ({ child }) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGKILL")
      }),
  )

describe("store server killed mid-import", () => {
  it.scopedLive(
    "the outbox holds the rest, the next run flushes it, every event is stored exactly once",
    () =>
      Effect.gen(function* () {
        if (!existsSync(distServer)) throw new Error(`${distServer} is missing: run \`npm run build\` first`)
        const dir = yield* scopedTempDir("xmon-kill-")
        const dbPath = join(dir, "events.db")
        const outboxFile = outboxPathFor(dir)
        const batches = makeBatches("kill", 40, 50)
        const all = batches.flat()

        // Run 1: import in batches; the server dies (SIGKILL) while batch 15 is on its way.
        const first = yield* startChild(dbPath)
        const run1 = yield* Effect.gen(function* () {
          const results: Array<AppendOrParkResult> = []
          for (const [i, batch] of batches.entries()) {
            if (i === 15) setTimeout(() => first.child.kill("SIGKILL"), 2)
            results.push(yield* appendOrPark(batch))
          }
          return { totals: sum(results), left: yield* pending }
        }).pipe(Effect.provide(Layer.merge(client(first.url, dir), Outbox.layer(outboxFile))))
        expect(first.child.signalCode === "SIGKILL" || first.child.killed).toBe(true)
        // Batch 15 may have reached the server before the kill landed; every later one was parked.
        expect(run1.totals.parked).toBeGreaterThanOrEqual(24 * 50)
        expect(run1.totals.stored).toBeGreaterThanOrEqual(15 * 50)
        expect(run1.totals.stored + run1.totals.parked).toBe(all.length)
        expect(run1.left).toBe(run1.totals.parked)

        // Run 2: the server is back (same file, new port). The outbox goes first, then nothing waits.
        const second = yield* startChild(dbPath)
        const run2 = yield* Effect.gen(function* () {
          const flushed = yield* flush()
          return { flushed, left: yield* pending, stored: yield* readAll }
        }).pipe(Effect.provide(Layer.merge(client(second.url, dir), Outbox.layer(outboxFile))))
        expect(run2.flushed).toEqual({ flushed: run1.totals.parked, remaining: 0 })
        expect(run2.left).toBe(0)

        const ids = run2.stored.map((e) => e.event_id)
        expect(ids.length).toBe(all.length)
        expect(new Set(ids).size).toBe(all.length)
        // Each stream kept the order its events were produced in.
        expect(perStream(run2.stored)).toEqual(perStream(all.map((a) => ({ ...a.stream, ...a.event }))))

        // And the file itself agrees, read directly once the server is gone.
        second.child.kill("SIGKILL")
        yield* Effect.async<void>((resume) => {
          if (second.child.exitCode !== null || second.child.signalCode !== null) return resume(Effect.void)
          second.child.once("exit", () => resume(Effect.void))
        })
        const direct = yield* Effect.provide(readAll, SqliteEventStore.layer(dbPath))
        expect(direct.map((e) => e.event_id).sort()).toEqual(all.map((a) => a.event.event_id).sort())
      }),
    60_000,
  )
})
