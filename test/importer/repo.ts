// A real git repository of pages in a temp dir, built commit by commit for the import tests.
import { execFileSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"

export interface PageRepo {
  readonly dir: string
  /** Write (or, with `null`, delete) files, commit them, and return the full commit id. */
  readonly commit: (files: Readonly<Record<string, string | null>>, message: string) => string
}

export const makePageRepo = (dir: string): PageRepo => {
  const git = (...args: Array<string>) =>
    execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", timeout: 10_000 }).trim()
  mkdirSync(dir, { recursive: true })
  git("init", "-q")
  git("config", "user.name", "xmon test")
  git("config", "user.email", "test@example.invalid")
  git("config", "commit.gpgsign", "false")
  return {
    dir,
    commit: (files, message) => {
      for (const [rel, text] of Object.entries(files)) {
        const path = join(dir, rel)
        if (text === null) rmSync(path, { force: true })
        else {
          mkdirSync(dirname(path), { recursive: true })
          writeFileSync(path, text)
        }
      }
      git("add", "-A")
      git("commit", "-q", "--allow-empty", "-m", message)
      return git("rev-parse", "HEAD")
    },
  }
}

/** A page as Ruby's `to_yaml` lays it out, followed by the closing line and an empty body. */
export const page = (yaml: string): string => `---\n${yaml.trim()}\n---\n`
