// Checkpoints of a store that has no checkpoint call (Umrath): one JSON object in a local file,
// `{ "<name>": "<value>" }`, replaced atomically (write a temporary file, then rename over).
import { Effect, Option } from "effect"
import { mkdir, readFile, rename, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import { StoreError } from "./event-store.js"
import type { CheckpointWrite } from "./event-store.js"

export interface CheckpointFile {
  readonly path: string
  readonly load: (name: string) => Effect.Effect<Option.Option<string>, StoreError>
  readonly save: (checkpoints: ReadonlyArray<CheckpointWrite>) => Effect.Effect<void, StoreError>
}

const fail = (store: string, operation: string, path: string) => (cause: unknown) =>
  new StoreError({
    store,
    operation,
    message: `checkpoint file ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
    transient: false,
    cause,
  })

/** `store` names the owning store in messages. Writes are serialised within the process. */
export const makeCheckpointFile = (path: string, store: string): Effect.Effect<CheckpointFile> =>
  Effect.map(Effect.makeSemaphore(1), (lock) => {
    const readAll = Effect.tryPromise({
      try: async (): Promise<Record<string, unknown>> => {
        let text: string
        try {
          text = await readFile(path, "utf8")
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOENT") return {}
          throw e
        }
        const parsed: unknown = JSON.parse(text)
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
          throw new Error("expected a JSON object")
        }
        return parsed as Record<string, unknown>
      },
      catch: fail(store, "loadCheckpoint", path),
    })

    const load = (name: string) =>
      Effect.map(readAll, (all) => {
        const value = all[name]
        // The original wrote numbers and objects here; hand those back as their JSON text.
        if (value === undefined || value === null) return Option.none<string>()
        return Option.some(typeof value === "string" ? value : JSON.stringify(value))
      })

    const save = (checkpoints: ReadonlyArray<CheckpointWrite>) =>
      checkpoints.length === 0
        ? Effect.void
        : lock.withPermits(1)(
            Effect.flatMap(readAll, (all) => {
              const next: Record<string, unknown> = { ...all }
              for (const c of checkpoints) next[c.name] = c.value
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
          )

    return { path, load, save }
  })
