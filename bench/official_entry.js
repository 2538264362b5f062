// Ledger's official browser stack as a dapp ships it: the WebHID transport and the
// Bitcoin app client. `run.mjs` bundles this with esbuild (minified, Buffer polyfill
// injected) to measure its size, and the bench page uses the same bundle, with an
// APDU transport that forwards to the simulator instead of WebHID.
import Transport from "@ledgerhq/hw-transport";
import TransportWebHID from "@ledgerhq/hw-transport-webhid";
import { AppClient, DefaultWalletPolicy, WalletPolicy } from "ledger-bitcoin";

/** A Transport whose APDUs go to `exchange(apdu: Uint8Array) => Uint8Array`. */
class ExchangeTransport extends Transport {
  constructor(exchange) {
    super();
    this.forward = exchange;
  }
  async exchange(apdu) {
    return Buffer.from(this.forward(new Uint8Array(apdu)));
  }
  async close() {}
}

/** Ledger's AppClient over an APDU function. */
export function officialClient(exchange) {
  return new AppClient(new ExchangeTransport(exchange));
}

export { TransportWebHID, AppClient, DefaultWalletPolicy, WalletPolicy };
