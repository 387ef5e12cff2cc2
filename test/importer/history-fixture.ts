// Three snapshots of an output repository, written the way the original writes pages (Ruby
// symbols, scalar single addresses, stale fields after a failed scan), with the changes between them.
import { page } from "./repo.js"

export const T1 = "2024-04-16T15:02:04+02:00"
export const T2 = "2024-04-26T14:54:08+02:00"
export const T3 = "2026-03-22T15:44:53+01:00"

export const snapshot1: Record<string, string> = {
  "domains/example-cz.md": page(`
_type: domain
id: example-cz
name: example.cz
nameservers:
- a.ns.example.net
- b.ns.example.net
registrant: OWNER-1
registrar: REG-A
expires: '2027-01-01'
status: :server_transfer_prohibited`),
  "domains/unscanned.md": page(`
_type: domain
id: unscanned
name: unscanned.cz`),
  "hostnames/www.md": page(`
_type: hostname
id: www
hostname: www.example.cz
address: 192.0.2.1`),
  "hostnames/gone.md": page(`
_type: hostname
id: gone
hostname: gone.example.cz
address:
- 192.0.2.7
- 192.0.2.8`),
  "portscans/ck1.md": page(`
_type: portscan
ip: 192.0.2.1
port: 443
hostname: www.example.cz
status: :ok
cert_sn: 0A1B
name: www.example.cz
altnames:
- example.cz
server: nginx
status_code: 200
cert_not_after: 2027-06-01 12:00:00.000000000 Z`),
  "ipv4s/ip1.md": page(`
_type: ipv4
ip: 192.0.2.1
ip_range: r1
status: :up
p443_status: :ok
p443_cert_sn: 0A1B
p443_name: www.example.cz`),
  "ipv4s/ip2.md": page(`
_type: ipv4
ip: 192.0.2.2
ip_range: r1`),
  "ip_ranges/r1.md": page(`
_type: ip_range
id: r1
cidr: 192.0.2.0/30`),
  "README.md": "# output\n\nnot a page at all\n",
}

/** Nameservers move, www gains an address, gone stops resolving, ck1 rotates, ip1 refuses. */
export const snapshot2: Record<string, string> = {
  ...snapshot1,
  "domains/example-cz.md": snapshot1["domains/example-cz.md"]!.replace("b.ns.example.net", "c.ns.example.net"),
  "hostnames/www.md": page(`
_type: hostname
id: www
hostname: www.example.cz
address:
- 192.0.2.1
- 192.0.2.9`),
  "hostnames/gone.md": page(`
_type: hostname
id: gone
hostname: gone.example.cz
address:
status: :nxdomain`),
  "portscans/ck1.md": snapshot1["portscans/ck1.md"]!.replace("cert_sn: 0A1B", "cert_sn: 0C2D"),
  "ipv4s/ip1.md": snapshot1["ipv4s/ip1.md"]!.replace("p443_status: :ok", "p443_status: :refused"),
}

/** gone resolves again (the original leaves `status: :nxdomain`), ip1 answers TLS again (tagged). */
export const snapshot3: Record<string, string> = {
  ...snapshot2,
  "hostnames/gone.md": page(`
_type: hostname
id: gone
hostname: gone.example.cz
address: 192.0.2.7
status: :nxdomain`),
  "ipv4s/ip1.md": snapshot1["ipv4s/ip1.md"]!.replace("p443_status: :ok", "p443_status: !ruby/symbol ok"),
}
