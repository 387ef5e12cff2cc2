// npm run bench:evaluate -- --events 1000000
// Builds a synthetic history in a temp SQLite file and measures, side by side in one run:
//   (a) the floor: reading the same rows straight from SQLite and JSON.parse-ing them;
//   (b) a full replay of `evaluate`;  (c) an incremental `evaluate` after 1,000 more events;
// each phase in its own child process, so each peak RSS is that phase's own.
import Database from "better-sqlite3"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { SCAN_BUCKET } from "../src/events/envelope.js"
import { rules } from "../src/evaluate/rules/index.js"
import { runEvaluation } from "../src/evaluate/runner.js"
import { EventStore } from "../src/store/event-store.js"
import { SqliteEventStore } from "../src/store/sqlite.js"
import { nextRound, shapeFor, syntheticHistory } from "./synthetic.js"

const APPENDED = 1000

interface PhaseResult {
  readonly seconds: number
  readonly peakRssMb: number
  readonly detail: Record<string, unknown>
}

const arg = (name: string, fallback?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}

const run = <A, E>(effect: Effect.Effect<A, E, EventStore>, db: string): Promise<A> =>
  Effect.runPromise(
    effect.pipe(Effect.provide(Layer.merge(SqliteEventStore.layer(db), Logger.minimumLogLevel(LogLevel.Warning)))),
  )

const timed = async (work: () => Promise<Record<string, unknown>>): Promise<PhaseResult> => {
  const start = process.hrtime.bigint()
  const detail = await work()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return { seconds, peakRssMb: process.resourceUsage().maxRSS / 1024, detail }
}

const phases: Record<string, (db: string, events: number) => Promise<Record<string, unknown>>> = {
  async generate(db, events) {
    const shape = shapeFor(events)
    await run(
      Effect.gen(function* () {
        const store = yield* EventStore
        for (const batch of syntheticHistory(events, shape)) yield* store.appendBatch(batch)
      }),
      db,
    )
    return { entities: shape.domains + shape.hostnames + shape.endpoints, bytes: statSync(db).size }
  },
  async floor(db) {
    const sqlite = new Database(db, { readonly: true })
    const rows = sqlite
      .prepare("SELECT payload, metadata FROM events WHERE bucket = ? ORDER BY global_position")
      .raw()
      .iterate(SCAN_BUCKET) as IterableIterator<[string, string]>
    let n = 0
    let fields = 0
    for (const [payload, metadata] of rows) {
      fields += Object.keys(JSON.parse(payload)).length + Object.keys(JSON.parse(metadata)).length
      n++
    }
    sqlite.close()
    return { rows: n, fields }
  },
  async full(db) {
    const summary = await run(runEvaluation({ rules, replay: true }), db)
    return { raw_events: summary.raw_events, derived: summary.stored + summary.duplicates }
  },
  async append(db, events) {
    const shape = shapeFor(events)
    await run(
      Effect.gen(function* () {
        const store = yield* EventStore
        for (const batch of syntheticHistory(APPENDED, shape, { seed: 7, fromRound: nextRound(events, shape) }))
          yield* store.appendBatch(batch)
      }),
      db,
    )
    return {}
  },
  async incremental(db) {
    const summary = await run(runEvaluation({ rules }), db)
    return { mode: summary.mode, raw_events: summary.raw_events, new_raw_events: summary.new_raw_events, resumed_from: summary.resumed_from }
  },
}

const child = (phase: string, db: string, events: number): PhaseResult => {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--phase", phase, "--db", db, "--events", String(events)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  })
  return JSON.parse(out.trim().split("\n").pop()!) as PhaseResult
}

const main = async () => {
  const events = Number(arg("events", "1000000"))
  const phase = arg("phase")
  if (phase) {
    const result = await timed(() => phases[phase]!(arg("db")!, events))
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return
  }
  const dir = mkdtempSync(join(tmpdir(), "xmon-bench-"))
  const db = join(dir, "events.db")
  try {
    const say = (s: string) => process.stderr.write(`${s}\n`)
    say(`building ${events} synthetic raw events in ${db} …`)
    const gen = child("generate", db, events)
    say(`  ${gen.seconds.toFixed(1)} s, ${gen.detail.entities} entities, ${(Number(gen.detail.bytes) / 1e6).toFixed(0)} MB`)
    const floor = child("floor", db, events)
    const full = child("full", db, events)
    child("append", db, events)
    const incremental = child("incremental", db, events)
    const fmt = (name: string, r: PhaseResult) =>
      `${name.padEnd(34)} ${r.seconds.toFixed(3).padStart(8)} s  ${r.peakRssMb.toFixed(0).padStart(5)} MB peak RSS  ${JSON.stringify(r.detail)}`
    const lines = [
      `bench:evaluate, ${events} raw events (${new Date().toISOString()}, node ${process.version})`,
      fmt("(a) floor: SQLite rows + JSON.parse", floor),
      fmt("(b) full replay", full),
      fmt(`(c) incremental after ${APPENDED} more`, incremental),
      `(b)/(a) = ${(full.seconds / floor.seconds).toFixed(2)}   target <= 4`,
      `(c)/(b) = ${((incremental.seconds / full.seconds) * 100).toFixed(2)} %   target <= 2 %`,
      `peak RSS of evaluate = ${Math.max(full.peakRssMb, incremental.peakRssMb).toFixed(0)} MB   target <= 400 MB`,
    ]
    process.stdout.write(`${lines.join("\n")}\n`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
