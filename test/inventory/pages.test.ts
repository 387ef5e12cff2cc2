import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { integerField, parsePage, textField, textListField } from "../../src/inventory/pages.js"

const page = (file: string, text: string) => {
  const r = parsePage(file, text)
  if (Either.isLeft(r)) throw new Error(`unexpected: ${r.left.message}`)
  return r.right
}

describe("parsePage", () => {
  it("reads Ruby symbols as their names, in values, lists and keys", () => {
    const p = page(
      "output/hostnames/www.md",
      "---\n_type: hostname\nid: www\nhostname: www.example.cz\nstatus: :nxdomain\nflags:\n- :up\n- :ok\n:weird: 1\n---\nbody\n",
    )
    expect(p.kind).toBe("hostname")
    expect(p.id).toBe("www")
    expect(p.fields["status"]).toBe("nxdomain")
    expect(p.fields["flags"]).toEqual(["up", "ok"])
    expect(p.fields["weird"]).toBe(1)
  })

  it("keeps a quoted string that starts with a colon, and IPv6 text", () => {
    const p = page("x/domains/d.md", "---\n_type: domain\nname: ':literal'\nip: ::1\n---\n")
    expect(p.fields["name"]).toBe(":literal")
    expect(p.fields["ip"]).toBe("::1")
  })

  it("reads !ruby tags instead of rejecting them", () => {
    const p = page(
      "out/ipv4s/abc.md",
      "---\n_type: ipv4\nip: 192.0.2.1\nstatus: !ruby/symbol up\np443_status: !ruby/sym ok\n" +
        "meta: !ruby/hash:ActiveSupport::HashWithIndifferentAccess\n  a: 1\n---\n",
    )
    expect(p.fields["status"]).toBe("up")
    expect(p.fields["p443_status"]).toBe("ok")
    expect(p.fields["meta"]).toEqual({ a: 1 })
  })

  it("falls back to the file name for the id and to the directory for the kind", () => {
    const p = page("out/portscans/ck0abc.md", "---\nip: 192.0.2.1\nport: 443\n---\n")
    expect(p.id).toBe("ck0abc")
    expect(p.kind).toBe("portscan")
    const numeric = page("out/domains/x.md", "---\n_type: domain\nid: 42\n---\n")
    expect(numeric.id).toBe("42")
  })

  it("takes the kind from _type over the directory, and leaves unknown types unknown", () => {
    expect(page("out/domains/a.md", "---\n_type: hostname\n---\n").kind).toBe("hostname")
    expect(page("out/domains/b.md", "---\n_type: something\n---\n").kind).toBeUndefined()
  })

  it("reads Ruby's empty frontmatter and a page read from git", () => {
    const p = page("abc123:asns/AS1.md", "--- {}\n---\n")
    expect(p.id).toBe("AS1")
    expect(p.kind).toBe("asn")
    expect(p.fields).toEqual({})
  })

  it("keeps the digits of a long unquoted number", () => {
    const p = page("o/portscans/a.md", "---\ncert_sn: 123456789012345678901234567\n---\n")
    expect(p.fields["cert_sn"]).toBe("123456789012345678901234567")
  })

  it("fails without frontmatter, naming the file", () => {
    const r = parsePage("o/domains/a.md", "# title\n")
    expect(Either.isLeft(r) && r.left._tag === "PageParseError" && r.left.file === "o/domains/a.md").toBe(true)
  })

  it("fails on unclosed frontmatter", () => {
    const r = parsePage("o/domains/a.md", "---\na: 1\n")
    expect(Either.isLeft(r) && r.left._tag).toBe("PageParseError")
  })

  it("names the line of a YAML syntax error", () => {
    const r = parsePage("o/domains/a.md", "---\n_type: domain\nnameservers: [a, b\nname: x\n---\n")
    expect(Either.isLeft(r)).toBe(true)
    if (Either.isLeft(r)) {
      expect(r.left._tag).toBe("PageParseError")
      expect(r.left.file).toBe("o/domains/a.md")
      expect(r.left.line).toBeGreaterThanOrEqual(3)
      expect(r.left.message).toContain("o/domains/a.md:")
    }
  })

  it("rejects an id that is a mapping, naming the field and line", () => {
    const r = parsePage("o/domains/a.md", "---\n_type: domain\nid:\n  x: 1\n---\n")
    expect(Either.isLeft(r) && r.left._tag === "PageFieldError" && r.left.field === "id" && r.left.line === 3).toBe(true)
  })
})

describe("field readers", () => {
  const p = page(
    "o/hostnames/h.md",
    "---\n_type: hostname\naddress: 192.0.2.1\nlist: [a, 1, ~]\nport: '8443'\nbad_port: abc\nnested:\n  a: 1\nbad_list: [[1]]\n---\n",
  )
  it("reads a scalar as a list of one and skips null items", () => {
    expect(Either.getOrThrow(textListField(p, "address"))).toEqual(["192.0.2.1"])
    expect(Either.getOrThrow(textListField(p, "list"))).toEqual(["a", "1"])
    expect(Either.getOrThrow(textListField(p, "absent"))).toBeUndefined()
  })
  it("reads numbers from digit text and rejects other text", () => {
    expect(Either.getOrThrow(integerField(p, "port"))).toBe(8443)
    const bad = integerField(p, "bad_port")
    expect(Either.isLeft(bad) && bad.left.field === "bad_port" && bad.left.line === 6).toBe(true)
  })
  it("rejects a mapping where a text belongs and a nested list in a list", () => {
    const t = textField(p, "nested")
    expect(Either.isLeft(t) && t.left.field === "nested" && t.left.file === "o/hostnames/h.md").toBe(true)
    expect(Either.isLeft(textListField(p, "bad_list"))).toBe(true)
  })
})
