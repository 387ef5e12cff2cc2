// The EventStore contract, run against the Umrath client talking to `xmon store serve` on loopback.
import { umrathOverTestServer } from "../support/store-server.js"
import { eventStoreContract } from "./contract.js"

eventStoreContract("umrath over xmon store serve", () => umrathOverTestServer())
