// npm run bench:store -- [--events 100000] [--streams 100] [--batch 500] [--in-process]
// Appends and reads the same events through the store server (Umrath protocol over loopback HTTP)
// and straight into SQLite, side by side in one run, and prints events/s for each and the ratio.
// Target: HTTP within 5x of direct for batched appends and paged reads. The server runs in a child
// process, as `xmon store serve` would (this same file with `--serve DB`); `--in-process` runs it
// on this process's event loop instead, sharing one CPU with the client.
//
// Phases, each on a fresh file:
//   append, one stream per batch   `batch` events of one stream per appendBatch (one request each)
//   append, mixed batch            `batch` events over 50 streams per appendBatch (50 requests each)
//   read, per stream (paged)       readStream of every stream: 500-event pages over HTTP
//   read, bucket (merged)          readBucket: all streams read and merged (HTTP) / one query (SQLite)
// Each read is timed on its second pass (the first warms up the JIT on both sides); an append
// cannot be repeated on the same file, so appends are timed cold.
import { Chunk, Effect, Layer, Logger, LogLevel, Stream } from "effect"
import { spawn } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Addressed, StreamRef } from "../src/events/envelope.js"
import { SCAN_BUCKET, SCAN_METADATA } from "../src/events/envelope.js"
import { EventStore } from "../src/store/event-store.js"
import { READ_PAGE_LIMIT } from "../src/store/http-api.js"
import { serveStore } from "../src/store/server.js"
import { SqliteEventStore } from "../src/store/sqlite.js"
import { UmrathEventStore } from "../src/store/umrath.js"

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`)
  return value
}

const flag = (name: string) => process.argv.includes(`--${name}`)

const EVENTS = arg("events", 100_000)
const STREAMS = arg("streams", 100)
const BATCH = arg("batch", 500)

const streams: ReadonlyArray<StreamRef> = Array.from({ length: STREAMS }, (_, i) => ({
  bucket: SCAN_BUCKET,
  aggregate_type: "TlsScan",
  aggregate_id: `ipv4-10.0.${Math.floor(i / 256)}.${i % 256}-443`,
}))

/** A TlsScanResult-sized event (about 500 bytes of JSON), the commonest raw event. */
const event = (n: number, stream: StreamRef): Addressed => ({
  stream,
  event: {
    event_id: `bench-${n.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000`,
    event_type: "TlsScanResult",
    payload: {
      ip: `10.0.0.${n % 256}`,
      port: 443,
      hostname: `host-${n % 997}.example.cz`,
      cert_serial: (n * 2654435761).toString(16),
      cert_subject: `CN=host-${n % 997}.example.cz`,
      cert_issuer: "CN=R11,O=Let's Encrypt,C=US",
      cert_not_after: "2025-08-01T00:00:00Z",
      altnames: [`host-${n % 997}.example.cz`, `www.host-${n % 997}.example.cz`],
      server: "nginx",
      status_code: 200,
      tls_status: "ok",
      scanned_at: new Date(Date.UTC(2025, 0, 1) + Math.floor(n / STREAMS) * 3_600_000).toISOString(),
    },
    metadata: { ...SCAN_METADATA },
  },
})

/** Batches of one stream each: stream s gets events s, s+STREAMS, … in runs of BATCH. */
const perStreamBatches = (): ReadonlyArray<ReadonlyArray<Addressed>> => {
  const perStream = Math.ceil(EVENTS / STREAMS)
  const out: Array<Array<Addressed>> = []
  for (let from = 0; from < perStream; from += BATCH) {
    for (let s = 0; s < STREAMS; s++) {
      const batch: Array<Addressed> = []
      for (let k = from; k < Math.min(perStream, from + BATCH); k++) {
        const n = k * STREAMS + s
        if (n < EVENTS) batch.push(event(n, streams[s]!))
      }
      if (batch.length > 0) out.push(batch)
    }
  }
  return out
}

/** Batches spread over 50 streams, runs of BATCH/50 events of one stream. */
const mixedBatches = (): ReadonlyArray<ReadonlyArray<Addressed>> => {
  const run = Math.max(1, Math.floor(BATCH / 50))
  const all: Array<Addressed> = []
  for (let n = 0; n < EVENTS; n++) all.push(event(n, streams[Math.floor(n / run) % STREAMS]!))
  const out: Array<ReadonlyArray<Addressed>> = []
  for (let i = 0; i < all.length; i += BATCH) out.push(all.slice(i, i + BATCH))
  return out
}

const seconds = (start: number) => (performance.now() - start) / 1000

interface Phase {
  readonly name: string
  readonly direct: number
  readonly http: number
}

/** Time the same work against a store layer; `warmUp` runs it once untimed first (reads only). */
const time = <A>(work: Effect.Effect<A, unknown, EventStore>, layer: Layer.Layer<EventStore, unknown>, warmUp = false) =>
  Effect.gen(function* () {
    if (warmUp) yield* Effect.provide(work, layer)
    const start = performance.now()
    yield* Effect.provide(work, layer)
    return seconds(start)
  })

const appendAll = (batches: ReadonlyArray<ReadonlyArray<Addressed>>) =>
  Effect.flatMap(EventStore, (store) =>
    Effect.forEach(batches, (b) => store.appendBatch(b), { discard: true }),
  )

const readPerStream = Effect.flatMap(EventStore, (store) =>
  Effect.forEach(streams, (s) => Stream.runCount(store.readStream(s, 0)), { concurrency: 1 }).pipe(
    Effect.map((counts) => counts.reduce((a, b) => a + b, 0)),
  ),
)

const readBucket = Effect.flatMap(EventStore, (store) =>
  Effect.map(Stream.runCollect(store.readBucket(SCAN_BUCKET, 0)), Chunk.size),
)

// Pages of the server's reads match the protocol's, so a page is one query.
const servedLayer = (path: string) => SqliteEventStore.layer(path, { pageSize: READ_PAGE_LIMIT })

const serveHere = (path: string) =>
  Effect.gen(function* () {
    const served = yield* Layer.build(servedLayer(path))
    return (yield* serveStore({ port: 0 }).pipe(Effect.provide(served))).url
  })

/** This file again, with `--serve PATH`: prints the URL, serves until killed. */
const serveInChild = (path: string) =>
  Effect.acquireRelease(
    Effect.async<{ url: string; child: ChildProcess }, Error>((resume) => {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve", path], {
        stdio: ["ignore", "pipe", "inherit"],
      })
      let out = ""
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString()
        if (out.includes("\n")) resume(Effect.succeed({ url: out.trim(), child }))
      })
      child.on("exit", (code) => resume(Effect.fail(new Error(`store server exited (${code})`))))
    }),
    ({ child }) => Effect.sync(() => child.kill("SIGKILL")),
  ).pipe(Effect.map(({ url }) => url))

const serveMode = (path: string) =>
  Effect.gen(function* () {
    const url = yield* serveHere(path)
    process.stdout.write(`${url}\n`)
    return yield* Effect.never
  }).pipe(Effect.scoped)

const program = Effect.gen(function* () {
  const dir = mkdtempSync(join(tmpdir(), "xmon-bench-store-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const phases: Array<Phase> = []

  /** A fresh SQLite file served over loopback, and a fresh one used directly. */
  const pair = (name: string) =>
    Effect.gen(function* () {
      const servedPath = join(dir, `${name}-served.db`)
      const url = flag("in-process") ? yield* serveHere(servedPath) : yield* serveInChild(servedPath)
      const http = yield* Layer.build(UmrathEventStore.layer({ url, checkpointFile: join(dir, "cp.json") }))
      const direct = yield* Layer.build(SqliteEventStore.layer(join(dir, `${name}-direct.db`)))
      return { http: Layer.succeedContext(http), direct: Layer.succeedContext(direct) }
    })

  const one = yield* pair("one")
  const batches = perStreamBatches()
  phases.push({
    name: `append, one stream per batch (${BATCH})`,
    direct: yield* time(appendAll(batches), one.direct),
    http: yield* time(appendAll(batches), one.http),
  })
  phases.push({
    name: "read, per stream (paged)",
    direct: yield* time(readPerStream, one.direct, true),
    http: yield* time(readPerStream, one.http, true),
  })
  phases.push({
    name: "read, bucket (merged)",
    direct: yield* time(readBucket, one.direct, true),
    http: yield* time(readBucket, one.http, true),
  })
  const counted = yield* Effect.provide(readBucket, one.http)
  if (counted !== EVENTS) return yield* Effect.dieMessage(`read ${counted} events over HTTP, expected ${EVENTS}`)

  const mixed = yield* pair("mixed")
  const mixedB = mixedBatches()
  phases.push({
    name: `append, mixed batch (${BATCH} over 50 streams)`,
    direct: yield* time(appendAll(mixedB), mixed.direct),
    http: yield* time(appendAll(mixedB), mixed.http),
  })

  const rate = (s: number) => Math.round(EVENTS / s).toLocaleString("en-US")
  const rows = phases.map((p) => [
    p.name,
    `${rate(p.direct)}/s`,
    `${rate(p.http)}/s`,
    `${(p.http / p.direct).toFixed(2)}x`,
  ])
  const header = ["phase", "SQLite direct", "HTTP (store serve)", "HTTP slower by"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  console.log(
    `${EVENTS.toLocaleString("en-US")} events, ${STREAMS} streams, batches of ${BATCH}; server ${flag("in-process") ? "in this process" : "in a child process"}; node ${process.version}`,
  )
  console.log(line(header))
  for (const r of rows) console.log(line(r))
  const target = phases.filter((p) => !p.name.startsWith("append, mixed")).every((p) => p.http / p.direct <= 5)
  console.log(target ? "target met: HTTP within 5x of direct (batched appends, paged reads)" : "target NOT met")
}).pipe(Effect.scoped, Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)))

const serveAt = process.argv.indexOf("--serve")
const main = serveAt >= 0 ? serveMode(process.argv[serveAt + 1] ?? "") : program

Effect.runPromise(main).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
