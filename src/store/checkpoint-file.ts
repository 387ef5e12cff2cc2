// Checkpoints of a store that has no checkpoint call (Umrath): one JSON object in a local file,
// `{ "$store": "<which store>", "<name>": "<value>" }`, replaced atomically (write a temporary
// file, then rename over).
import { Effect, Option } from "effect"
import { mkdir, readFile, rename, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import { StoreError } from "./event-store.js"
import type { CheckpointWrite } from "./event-store.js"

/**
 * The key naming the store the checkpoints were made against. The default file sits in the
 * working directory, so without it a run against another store would trust positions it never
 * reached there and skip emitting derived events for those streams.
 */
export const STORE_KEY = "$store"

export interface CheckpointFile {
  readonly path: string
  readonly load: (name: string) => Effect.Effect<Option.Option<string>, StoreError>
  readonly save: (checkpoints: ReadonlyArray<CheckpointWrite>) => Effect.Effect<void, StoreError>
}

/** What is in the file: nothing yet, our object, or text that is not a JSON object. */
type Contents =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Object"; readonly all: Record<string, unknown> }
  | { readonly _tag: "NotAnObject"; readonly text: string }

const fail = (store: string, operation: string, path: string) => (cause: unknown) =>
  new StoreError({
    store,
    operation,
    message: `checkpoint file ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
    transient: false,
    cause,
  })

const asObject = (text: string): Record<string, unknown> | undefined => {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * `store` names the owning store in messages and is recorded in the file; a file recorded for
 * another store is refused on load and taken over on save (`--replay` loads nothing and must be
 * able to start afresh). Writes are serialised within the process.
 */
export const makeCheckpointFile = (path: string, store: string): Effect.Effect<CheckpointFile> =>
  Effect.map(Effect.makeSemaphore(1), (lock) => {
    const readContents = (operation: string) =>
      Effect.tryPromise({
        try: async (): Promise<Contents> => {
          let text: string
          try {
            text = await readFile(path, "utf8")
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") return { _tag: "Missing" }
            throw e
          }
          const all = asObject(text)
          return all === undefined ? { _tag: "NotAnObject", text } : { _tag: "Object", all }
        },
        catch: fail(store, operation, path),
      })

    const ownerOf = (all: Record<string, unknown>): string | undefined => {
      const owner = all[STORE_KEY]
      return owner === undefined ? undefined : String(owner)
    }

    const load = (name: string) =>
      Effect.flatMap(readContents("loadCheckpoint"), (contents): Effect.Effect<Option.Option<string>, StoreError> => {
        // A damaged file goes to the caller as it is: the evaluator's own parser refuses it and
        // says to run `--replay`, which overwrites it.
        if (contents._tag === "NotAnObject") return Effect.succeed(Option.some(contents.text))
        if (contents._tag === "Missing") return Effect.succeed(Option.none())
        const owner = ownerOf(contents.all)
        if (owner !== undefined && owner !== store) {
          return Effect.fail(
            new StoreError({
              store,
              operation: "loadCheckpoint",
              message:
                `checkpoint file ${path} was written for ${owner}, not ${store}: set EZRECON_EVAL_CHECKPOINT ` +
                `to another file for this store, or run \`xmon evaluate --replay\` to rebuild it here`,
              transient: false,
            }),
          )
        }
        if (name === STORE_KEY) return Effect.succeed(Option.none())
        const value = contents.all[name]
        // The original wrote numbers and objects here; hand those back as their JSON text.
        if (value === undefined || value === null) return Effect.succeed(Option.none())
        return Effect.succeed(Option.some(typeof value === "string" ? value : JSON.stringify(value)))
      })

    /** What the next file starts from: ours as it is; a damaged or foreign file is replaced. */
    const base = (contents: Contents): Effect.Effect<Record<string, unknown>> => {
      switch (contents._tag) {
        case "Missing":
          return Effect.succeed({})
        case "NotAnObject":
          return Effect.as(
            Effect.logWarning(`checkpoint file ${path} is not a JSON object: overwriting it`),
            {},
          )
        case "Object": {
          const owner = ownerOf(contents.all)
          return owner === undefined || owner === store
            ? Effect.succeed(contents.all)
            : Effect.as(
                Effect.logWarning(`checkpoint file ${path} was written for ${owner}: taking it over for ${store}`),
                {},
              )
        }
      }
    }

    const save = (checkpoints: ReadonlyArray<CheckpointWrite>) =>
      checkpoints.length === 0
        ? Effect.void
        : lock.withPermits(1)(
            readContents("saveCheckpoint").pipe(
              Effect.flatMap(base),
              Effect.flatMap((all) => {
                const next: Record<string, unknown> = { [STORE_KEY]: store, ...all }
                for (const c of checkpoints) next[c.name] = c.value
                next[STORE_KEY] = store
                const tmp = `${path}.${process.pid}.tmp`
                return Effect.tryPromise({
                  try: async () => {
                    await mkdir(dirname(path), { recursive: true })
                    await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, "utf8")
                    await rename(tmp, path)
                  },
                  catch: fail(store, "saveCheckpoint", path),
                })
              }),
            ),
          )

    return { path, load, save }
  })
