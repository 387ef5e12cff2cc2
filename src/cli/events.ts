// `xmon events`: what changed, from recon-eval (or any bucket), filtered.
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option, Stream } from "effect"
import type { StoredEvent } from "../events/envelope.js"
import { EVAL_BUCKET } from "../events/envelope.js"
import { EventStore } from "../store/event-store.js"
import { encodeLine } from "../store/jsonl.js"
import { invalidFlag } from "./errors.js"
import { eventsTable } from "./render.js"
import { writeLines } from "./stdout.js"
import { storeLayer, storeOption } from "./store-option.js"

const bucket = Options.text("bucket").pipe(Options.withDefault(EVAL_BUCKET), Options.withDescription("Bucket to list"))
const type = Options.text("type").pipe(
  Options.repeated,
  Options.withDescription("Only events of this type (repeatable)"),
)
const entity = Options.text("entity").pipe(
  Options.optional,
  Options.withDescription("Only events of this aggregate id (domain, hostname, endpoint id or certificate serial)"),
)
const since = Options.text("since").pipe(
  Options.mapEffect((text) => {
    const ms = Date.parse(text)
    return Number.isNaN(ms)
      ? Effect.fail(invalidFlag(`--since ${JSON.stringify(text)}: expected an ISO 8601 time`))
      : Effect.succeed(ms)
  }),
  Options.optional,
  Options.withDescription("Only events detected (or scanned) at or after this ISO 8601 time"),
)
const format = Options.choice("format", ["table", "jsonl"]).pipe(
  Options.withDefault("table" as const),
  Options.withDescription("table for people, jsonl (the export line format) for programs"),
)
const json = Options.boolean("json").pipe(Options.withDescription("Same as --format jsonl"))

/** When an event happened: derived events carry detected_at, raw ones scanned_at. */
const eventTime = (e: StoredEvent): string => String(e.payload.detected_at ?? e.payload.scanned_at ?? e.recorded_at)

export const eventsCommand = Command.make(
  "events",
  { bucket, type, entity, since, format, json, store: storeOption },
  (o) =>
    Effect.gen(function* () {
      const sinceMs = Option.getOrUndefined(o.since)
      const types = new Set(o.type)
      const keep = (e: StoredEvent): boolean =>
        (types.size === 0 || types.has(e.event_type)) &&
        (Option.isNone(o.entity) || e.aggregate_id === o.entity.value) &&
        (sinceMs === undefined || Date.parse(eventTime(e)) >= sinceMs)
      const store = yield* EventStore
      const events = store.readBucket(o.bucket, 0).pipe(Stream.filter(keep))
      if (o.json || o.format === "jsonl") {
        yield* writeLines(Stream.map(events, (e) => `${encodeLine(e)}\n`))
      } else {
        const all = yield* Stream.runCollect(events)
        yield* Console.log(eventsTable([...all]))
      }
    }),
).pipe(
  Command.withDescription("List stored events (by default what changed: recon-eval), oldest first"),
  Command.provide((o) => storeLayer(o.store, { mustExist: true })),
)
