import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { streamKey } from "../../src/events/envelope.js"
import { outputDirConfig, pageStreams } from "../../src/inventory/page-streams.js"

const root = mkdtempSync(join(tmpdir(), "xmon-pages-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const write = (dir: string, rel: string, text: string) => {
  const path = join(dir, rel)
  mkdirSync(join(path, ".."), { recursive: true })
  writeFileSync(path, text)
}

const output = join(root, "output")
write(output, "domains/example-cz.md", "---\n_type: domain\nid: example-cz\nname: example.cz\n---\n")
write(output, "hostnames/www.md", "---\n_type: hostname\nid: www\nhostname: www.example.cz\n---\n")
write(output, "portscans/ck1.md", "---\n_type: portscan\nip: 192.0.2.1\nport: 443\ncert_sn: 0A1B\nstatus: :ok\n---\n")
write(output, "ipv4s/ip1.md", "---\n_type: ipv4\nip: 192.0.2.1\nstatus: :up\np443_status: :ok\np443_cert_sn: 0A1B\n---\n")
write(output, "ipv4s/ip2.md", "---\n_type: ipv4\nip: 192.0.2.2\nip_range: r1\n---\n")
write(output, "ipv4s/ip3.md", "---\n_type: ipv4\nip: 192.0.2.3\np443_status: :refused\n---\n")
write(output, "ip_ranges/r1.md", "---\n_type: ip_range\nid: r1\ncidr: 192.0.2.0/30\n---\n")
write(output, "asns/AS1.md", "--- {}\n---\n")
write(output, "README.txt", "not a page")
write(output, "README.md", "# the output, not a page\n")
write(output, "notes/todo.md", "no frontmatter here\n")

const keys = (bucket: string) => pageStreams(output)(bucket).pipe(Effect.map((refs) => refs.map(streamKey)))

describe("pageStreams", () => {
  it.effect("names the raw streams of recon-scan", () =>
    Effect.gen(function* () {
      expect(yield* keys("recon-scan")).toEqual([
        "recon-scan/DomainScan/example-cz",
        "recon-scan/HostnameScan/www",
        "recon-scan/TlsScan/ck1",
        "recon-scan/TlsScan/ipv4-ip1-443",
        "recon-scan/TlsScan/ipv4-ip3-443",
      ])
    }),
  )

  it.effect("names the derived streams of recon-eval, with the certificates on the pages", () =>
    Effect.gen(function* () {
      expect(yield* keys("recon-eval")).toEqual([
        "recon-eval/Certificate/0A1B",
        "recon-eval/Domain/example-cz",
        "recon-eval/Endpoint/ck1",
        "recon-eval/Endpoint/ipv4-ip1-443",
        "recon-eval/Endpoint/ipv4-ip3-443",
        "recon-eval/Hostname/www",
      ])
    }),
  )

  it.effect("names the legacy streams of recon, every ipv4 page included", () =>
    Effect.gen(function* () {
      expect(yield* keys("recon")).toEqual([
        "recon/Domain/example-cz",
        "recon/NetworkAddress/ip1",
        "recon/NetworkAddress/ip2",
        "recon/NetworkAddress/ip3",
        "recon/NetworkHost/www",
        "recon/PortScan/ck1",
      ])
      expect(yield* keys("elsewhere")).toEqual([])
    }),
  )

  it.effect("fails with a typed error naming a missing output directory", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(pageStreams(join(root, "nope"))("recon-scan"))
      expect(Exit.isFailure(exit)).toBe(true)
      const error = yield* Effect.flip(pageStreams(join(root, "nope"))("recon-scan"))
      expect(error._tag).toBe("PageReadError")
      expect(error._tag === "PageReadError" && error.path).toBe(join(root, "nope"))
    }),
  )

  it.effect("fails with the bad page's file and line", () =>
    Effect.gen(function* () {
      const bad = join(root, "bad")
      write(bad, "domains/a.md", "---\n_type: domain\nname: [x\n---\n")
      const error = yield* Effect.flip(pageStreams(bad)("recon-scan"))
      expect(error._tag).toBe("PageParseError")
      expect(error._tag === "PageParseError" && error.file).toBe(join(bad, "domains/a.md"))
    }),
  )
})

describe("output directory", () => {
  it.effect("follows EZRECON_OUTPUT_DIR, then EZRECON_INVENTORY_DIR/output, then ./output", () =>
    Effect.gen(function* () {
      const read = (env: Record<string, string>) =>
        Effect.withConfigProvider(outputDirConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))
      expect(yield* read({ EZRECON_OUTPUT_DIR: "/o", EZRECON_INVENTORY_DIR: "/i" })).toBe("/o")
      expect(yield* read({ EZRECON_INVENTORY_DIR: "/i" })).toBe(join("/i", "output"))
      expect(yield* read({})).toBe(join(".", "output"))
    }),
  )
})
