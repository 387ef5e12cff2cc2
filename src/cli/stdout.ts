// Results to stdout, respecting backpressure: an export of a million events into a slow pipe
// must not pile up in memory.
import { Effect, Stream } from "effect"

/** Write text to stdout; wait for the pipe to drain when its buffer is full. */
export const writeStdout = (text: string): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (process.stdout.write(text)) return resume(Effect.void)
    const drained = () => resume(Effect.void)
    process.stdout.once("drain", drained)
    return Effect.sync(() => process.stdout.off("drain", drained))
  })

/** Write every line of a stream (each already ending in "\n"), one write per chunk. */
export const writeLines = <E, R>(lines: Stream.Stream<string, E, R>): Effect.Effect<void, E, R> =>
  Stream.runForEachChunk(lines, (chunk) => writeStdout(Array.from(chunk).join("")))
