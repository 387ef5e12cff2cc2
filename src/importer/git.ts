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

/** Paths of the files at `commit` under `dirs` whose names end in `suffix`, in git's (byte) order. */
export const listFiles = Effect.fn("Git.listFiles")(function* (
  repo: string,
  commit: string,
  dirs: ReadonlyArray<string>,
  suffix: string,
) {
  const out = yield* git(repo, ["ls-tree", "-r", "-z", "--name-only", commit, "--", ...dirs.map((d) => `${d}/`)])
  return out
    .toString("utf8")
    .split("\u0000")
    .filter((p) => p.length > 0 && p.endsWith(suffix))
})

/**
 * The contents of `paths` at `commit`, through one `git cat-file --batch` (one process, not one
 * per file). A path git cannot find is a GitError.
 */
export const readFiles = Effect.fn("Git.readFiles")(function* (
  repo: string,
  commit: string,
  paths: ReadonlyArray<string>,
) {
  if (paths.length === 0) return [] as ReadonlyArray<GitFile>
  const args = ["cat-file", "--batch"]
  for (const p of paths) {
    if (p.includes("\n")) return yield* Effect.fail(new GitError({ repo, args, reason: `cannot read a path with a newline: ${JSON.stringify(p)}` }))
  }
  const out = yield* git(repo, args, paths.map((p) => `${commit}:${p}\n`).join(""))
  const files: Array<GitFile> = []
  let at = 0
  for (const path of paths) {
    const eol = out.indexOf(0x0a, at)
    if (eol < 0) return yield* Effect.fail(new GitError({ repo, args, reason: `output ended before ${path}` }))
    const header = out.subarray(at, eol).toString("utf8")
    const m = /^\S+ (\S+) (\d+)$/.exec(header)
    if (!m) return yield* Effect.fail(new GitError({ repo, args, reason: `${commit}:${path}: ${header}` }))
    const size = Number(m[2])
    files.push({ path, text: out.subarray(eol + 1, eol + 1 + size).toString("utf8") })
    at = eol + 1 + size + 1 // the blob is followed by a newline
  }
  return files as ReadonlyArray<GitFile>
})
