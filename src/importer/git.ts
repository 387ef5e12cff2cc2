// Reading files of an output repository at a commit, with git as a child process.
import { Command } from "@effect/platform"
import { Chunk, Data, Effect, Stream } from "effect"

/** git could not be run, or said no (not a repository, no such commit, …). */
export class GitError extends Data.TaggedError("GitError")<{
  readonly repo: string
  readonly args: ReadonlyArray<string>
  readonly reason: string
  readonly exitCode?: number
  readonly cause?: unknown
}> {
  override get message(): string {
    return `git ${this.args.join(" ")} in ${this.repo}: ${this.reason}`
  }
}

export interface GitFile {
  readonly path: string
  readonly text: string
}

const concat = (chunks: Chunk.Chunk<Uint8Array>): Buffer => Buffer.concat([...chunks])

/** Run git in `repo`; stdout as bytes. A non-zero exit is a GitError carrying git's stderr. */
const git = (repo: string, args: ReadonlyArray<string>, input?: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      let command = Command.make("git", "-C", repo, "-c", "core.quotepath=off", ...args).pipe(
        Command.env({ GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" }),
      )
      if (input !== undefined) command = Command.feed(command, input)
      const proc = yield* Command.start(command)
      const [out, err, code] = yield* Effect.all(
        [Stream.runCollect(proc.stdout), Stream.runCollect(proc.stderr), proc.exitCode],
        { concurrency: "unbounded" },
      )
      if (code !== 0) {
        const reason = concat(err).toString("utf8").trim() || `exited with code ${code}`
        return yield* Effect.fail(new GitError({ repo, args, reason, exitCode: code }))
      }
      return concat(out)
    }),
  ).pipe(
    Effect.catchTag("SystemError", "BadArgument", (cause) =>
      Effect.fail(new GitError({ repo, args, reason: `cannot run git: ${cause.message}`, cause })),
    ),
  )

/** The full id of `commit` (anything git can resolve to a commit), or a GitError naming it. */
export const resolveCommit = Effect.fn("Git.resolveCommit")(function* (repo: string, commit: string) {
  const out = yield* git(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${commit}^{commit}`]).pipe(
    Effect.catchTag("GitError", (e) =>
      Effect.fail(
        // `--quiet` makes git exit 1 with nothing on stderr for an unknown commit; other failures
        // (not a repository) keep git's own words.
        e.exitCode === 1
          ? new GitError({ repo, args: e.args, reason: `no commit ${JSON.stringify(commit)} in this repository`, exitCode: 1 })
          : e,
      ),
    ),
  )
  return out.toString("utf8").trim()
})

/** A file in a commit's tree: its path and the id of its contents. */
export interface GitEntry {
  readonly path: string
  readonly blob: string
}

/** The files at `commit` under `dirs` whose names end in `suffix`, in git's (byte) order of paths. */
export const listFiles = Effect.fn("Git.listFiles")(function* (
  repo: string,
  commit: string,
  dirs: ReadonlyArray<string>,
  suffix: string,
) {
  const out = yield* git(repo, ["ls-tree", "-r", "-z", commit, "--", ...dirs.map((d) => `${d}/`)])
  const entries: Array<GitEntry> = []
  // `<mode> <type> <object>\t<path>`, NUL-terminated
  for (const record of out.toString("utf8").split("\u0000")) {
    const tab = record.indexOf("\t")
    if (tab < 0) continue
    const [, type, blob] = record.slice(0, tab).split(" ")
    const path = record.slice(tab + 1)
    if (type === "blob" && blob && path.endsWith(suffix)) entries.push({ path, blob })
  }
  return entries as ReadonlyArray<GitEntry>
})

/**
 * The contents of `entries`, through one `git cat-file --batch --buffer` (one process, not one per
 * file). Asked by blob id, not by `COMMIT:path`: git would walk the tree for each path, which is
 * quadratic in the size of a directory of 65,000 ipv4 pages.
 */
export const readFiles = Effect.fn("Git.readFiles")(function* (repo: string, entries: ReadonlyArray<GitEntry>) {
  if (entries.length === 0) return [] as ReadonlyArray<GitFile>
  const args = ["cat-file", "--batch", "--buffer"]
  const out = yield* git(repo, args, entries.map((e) => `${e.blob}\n`).join(""))
  const files: Array<GitFile> = []
  let at = 0
  for (const { path, blob } of entries) {
    const eol = out.indexOf(0x0a, at)
    if (eol < 0) return yield* Effect.fail(new GitError({ repo, args, reason: `output ended before ${path}` }))
    const header = out.subarray(at, eol).toString("utf8")
    const m = /^(\S+) blob (\d+)$/.exec(header)
    if (!m || m[1] !== blob) return yield* Effect.fail(new GitError({ repo, args, reason: `${path}: ${header}` }))
    const size = Number(m[2])
    files.push({ path, text: out.subarray(eol + 1, eol + 1 + size).toString("utf8") })
    at = eol + 1 + size + 1 // the contents are followed by a newline
  }
  return files as ReadonlyArray<GitFile>
})
