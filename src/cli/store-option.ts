// `--store sqlite:PATH | umrath:URL`: which EventStore a command talks to.
import { Options } from "@effect/cli"
import { Data, Effect, Layer, Option } from "effect"
import { existsSync } from "node:fs"
import { EventStore, StoreError } from "../store/event-store.js"
import { Outbox, type OutboxError, outboxPathFor } from "../store/outbox.js"
import { outboxedStore } from "../store/outboxed.js"
import { pageStreams } from "../inventory/page-streams.js"
import { SqliteEventStore, type SqliteOptions } from "../store/sqlite.js"
import { UmrathEventStore } from "../store/umrath.js"
import { defaultSqlitePath, outputDir, umrathToken, umrathUrl } from "./settings.js"

export const storeOption = Options.text("store").pipe(
  Options.withDescription(
    "Event store: sqlite:PATH (embedded, the default: $EZRECON_OUTPUT_DIR/.xmon/events.db) or umrath:URL (also chosen when UMRATH_URL is set)",
  ),
  Options.optional,
)

/** A `--store` value that names no known kind of store. */
export class StoreSpecError extends Data.TaggedError("StoreSpecError")<{ readonly spec: string; readonly expected?: string }> {
  override get message(): string {
    return `--store ${JSON.stringify(this.spec)}: expected ${this.expected ?? "sqlite:PATH or umrath:URL"}`
  }
}

export type StoreSpec = { readonly kind: "sqlite"; readonly path: string } | { readonly kind: "umrath"; readonly url: string }

/** The store a command uses: `--store`, else `UMRATH_URL`, else the embedded default file. */
export const resolveStoreSpec = (spec: Option.Option<string>): Effect.Effect<StoreSpec, StoreSpecError> =>
  Effect.gen(function* () {
    if (Option.isSome(spec)) {
      const value = spec.value
      if (value.startsWith("sqlite:") && value.length > "sqlite:".length)
        return { kind: "sqlite", path: value.slice("sqlite:".length) } as const
      if (value.startsWith("umrath:") && value.length > "umrath:".length)
        return { kind: "umrath", url: value.slice("umrath:".length) } as const
      return yield* new StoreSpecError({ spec: value })
    }
    const url = yield* umrathUrl.pipe(Effect.orElseSucceed(() => Option.none<string>()))
    if (Option.isSome(url)) return { kind: "umrath", url: url.value } as const
    return { kind: "sqlite", path: yield* defaultSqlitePath } as const
  })

/**
 * The protocol of an Umrath store cannot list streams: like the original, take them from the
 * inventory pages in the output directory.
 */
const streamsFromPages = (url: string, dir: string) => {
  const streams = pageStreams(dir)
  return (bucket: string) =>
    streams(bucket).pipe(
      Effect.mapError(
        (e) =>
          new StoreError({
            store: `umrath:${url}`,
            operation: "listStreams",
            message: `the streams of ${bucket} come from the pages under ${dir}, which could not be read: ${e.message}`,
            transient: false,
            cause: e,
          }),
      ),
    )
}

/** Reading commands do not create a store: a mistyped path would only show an empty history. */
export class NoStore extends Data.TaggedError("NoStore")<{ readonly path: string }> {
  override get message(): string {
    return `no event store at ${this.path}: check --store (or EZRECON_OUTPUT_DIR), or put events in first with \`xmon store import\` or \`xmon import-history\``
  }
}

export interface StoreLayerOptions extends SqliteOptions {
  /** Refuse an embedded store file that does not exist yet, instead of creating an empty one. */
  readonly mustExist?: boolean
  /** Only the embedded store (`store serve`: serving an HTTP store from itself would loop). */
  readonly embeddedOnly?: boolean
}

/** `--store` for a command that needs the embedded store: `sqlite:PATH`, else the default file. */
const resolveEmbedded = (spec: Option.Option<string>): Effect.Effect<StoreSpec, StoreSpecError> =>
  Option.isSome(spec)
    ? Effect.flatMap(resolveStoreSpec(spec), (r) =>
        r.kind === "sqlite" ? Effect.succeed(r) : Effect.fail(new StoreSpecError({ spec: spec.value, expected: "sqlite:PATH" })),
      )
    : Effect.map(defaultSqlitePath, (path) => ({ kind: "sqlite", path }) as const)

export const storeLayer = (
  spec: Option.Option<string>,
  options: StoreLayerOptions = {},
): Layer.Layer<EventStore, StoreError | StoreSpecError | NoStore> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const resolved = options.embeddedOnly ? yield* resolveEmbedded(spec) : yield* resolveStoreSpec(spec)
      if (resolved.kind === "sqlite") {
        if (options.mustExist && !existsSync(resolved.path)) return yield* new NoStore({ path: resolved.path })
        return SqliteEventStore.layer(resolved.path, options)
      }
      const dir = yield* outputDir
      const token = yield* umrathToken.pipe(Effect.orElseSucceed(() => Option.none<string>()))
      return UmrathEventStore.layer({
        url: resolved.url,
        streams: streamsFromPages(resolved.url, dir),
        ...(Option.isSome(token) ? { token: token.value } : {}),
      })
    }),
  )

/**
 * The store for commands that append raw events (imports, later scans). With a store over the
 * network, appends that fail after the retries wait in `<output>/.xmon/outbox.db`, which the next
 * run sends first. The embedded store is a local file already: an outbox beside it would share
 * whatever made it fail (a full disk), so it has none.
 */
export const storeWithOutbox = (
  spec: Option.Option<string>,
  options: StoreLayerOptions = {},
): Layer.Layer<EventStore, StoreError | StoreSpecError | NoStore | OutboxError> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const resolved = yield* resolveStoreSpec(spec)
      if (resolved.kind === "sqlite") return storeLayer(spec, options)
      const path = outboxPathFor(yield* outputDir)
      return Layer.provide(outboxedStore(path), storeLayer(spec, options))
    }),
  )

/** Events that could not be stored in this run: they are safe in the outbox, but the run failed. */
export class EventsParked extends Data.TaggedError("EventsParked")<{ readonly count: number; readonly path: string }> {
  override get message(): string {
    return `${this.count} events could not be stored and wait in ${this.path}; the next run sends them first`
  }
}

/** End of an appending run: fail (exit 1) if anything is left in the outbox. */
export const failIfParked = Effect.gen(function* () {
  const found = yield* Effect.serviceOption(Outbox)
  if (Option.isNone(found)) return
  const outbox = found.value
  const count = yield* outbox.pending
  if (count > 0) return yield* new EventsParked({ count, path: outbox.path })
})
