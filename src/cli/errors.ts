// Errors of the command line itself, and the exit code each kind of failure gets.
import { HelpDoc, ValidationError } from "@effect/cli"
import { Data } from "effect"

/** A flag or argument that makes no sense: exit 2. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** Errors caused by what the user gave us (flags, files, stored data that fails its schema): exit 2. */
export const INPUT_ERROR_TAGS: ReadonlySet<string> = new Set([
  "UsageError",
  "StoreSpecError",
  "NoStore",
  "InvalidRawEvent",
  "CheckpointError",
  "ImportLineError",
  "ImportFileError",
  "PageParseError",
  "PageFieldError",
  "PageReadError",
  "SnapshotSpecError",
  "GitError",
  "LegacyEventError",
  "ValidationError",
])

/** A flag value refused while the command line is parsed, before any store is opened. */
export const invalidFlag = (message: string): ValidationError.ValidationError =>
  ValidationError.invalidValue(HelpDoc.p(message))
