// CertificateChanged: an endpoint presents a serial other than the last one it presented.
import { derive, endpointFields } from "../derive.js"
import type { Rule } from "../rule.js"
import { none, present } from "./support.js"

const NAME = "CertificateChanged"

/** Per endpoint stream: the last serial seen. A failed scan (no serial) does not erase it. */
export type CertificateChangedState = Map<string, string>

export const certificateChanged: Rule<CertificateChangedState> = {
  name: NAME,
  version: 1,
  init: () => new Map(),
  step: (serials, event) => {
    if (event.event_type !== "TlsScanResult") return [serials, none]
    const serial = event.payload.cert_serial
    if (!present(serial)) return [serials, none]
    const id = event.aggregate_id
    const before = serials.get(id)
    if (before === serial) return [serials, none]
    serials.set(id, serial)
    if (before === undefined) return [serials, none]
    return [
      serials,
      [
        derive(NAME, event, "CertificateChanged", id, {
          ...endpointFields(event),
          old_cert_serial: before,
          new_cert_serial: serial,
        }),
      ],
    ]
  },
}
