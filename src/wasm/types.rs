//! The TypeScript types of the package's options and results, so that `hwsigner.d.ts`
//! has no `any`: wasm-bindgen writes this section into the declarations as it is.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A wallet maker. */
export type Vendor = "ledger" | "trezor";

/** The stable `code` of every error the package rejects with. */
export type ErrorCode =
  | "user-rejected" | "device-locked" | "app-not-open" | "busy" | "disconnected"
  | "timeout" | "cancelled" | "unsupported" | "invalid-input" | "protocol"
  | "device" | "transport" | "wrong-pin";

/** What every rejected call rejects with. */
export interface HwSignerError extends Error {
  name: "HwSignerError";
  code: ErrorCode;
  /** Ledger status word or Trezor failure code, for `code: "device"`. */
  statusWord?: number;
}

/** Progress of a long call, the same for every vendor. */
export type Status =
  | { type: "connecting" }
  | { type: "open-app"; app: string }
  | { type: "confirm-on-device" }
  | { type: "enter-pin" }
  | { type: "enter-pin-on-device" }
  | { type: "enter-passphrase" }
  | { type: "enter-passphrase-on-device" }
  | { type: "enter-pairing-code" }
  | { type: "signing"; index: number; total: number }
  | { type: "done" };

/** What a Trezor One asks `onPin` for: which PIN. */
export interface PinRequest {
  kind: "current" | "new-first" | "new-second" | "wipe-code-first" | "wipe-code-second" | "other";
}

/** What `onPassphrase` is asked: whether the device can take the passphrase itself. */
export interface PassphraseRequest {
  onDevice: boolean;
}

/** A passphrase ("" for the standard wallet), or typing it on the device. */
export type PassphraseAnswer = string | { onDevice: true };

/** What a device is and runs. */
export interface DeviceInfo {
  vendor: Vendor;
  /** "Nano X", "T", "Safe 3", ... */
  model: string;
  /** Ledger: the open app ("Bitcoin", "Bitcoin Test", "BOLOS"); Trezor: null. */
  app: string | null;
  /** Ledger: the app's version; Trezor: the firmware's. */
  version: string;
}

/** A BIP-388 wallet policy, with the hmac of its registration (Ledger). */
export interface WalletPolicy {
  name?: string;
  /** e.g. "wsh(sortedmulti(2,@0/**,@1/**))", or MuSig2 (Ledger app 2.4+):
   *  "tr(musig(@0,@1)/**)", "tr(@0/**,pk(musig(@1,@2)/**))" */
  template: string;
  /** e.g. "[f5acc2fd/48'/1'/0'/2']tpub..." */
  keys: string[];
  /** 64 hex digits, from registerPolicy. */
  hmac?: string;
}

/** Options every call takes. */
export interface CallOptions {
  /** Aborting rejects the call with `cancelled` at once; a call still queued never
   *  reaches the device, one under way finishes in the background. */
  signal?: AbortSignal;
}

export interface XpubOptions extends CallOptions {
  /** Show the xpub on the device for the user to check. */
  display?: boolean;
}

export type AddressOptions = ({ descriptor: string } | WalletPolicy) & CallOptions & {
  index?: number;
  change?: boolean;
  display?: boolean;
  /** Take the device's address where the host cannot derive the policy's to compare
   *  (a policy it cannot parse, or without an address form); without it such a call
   *  rejects with `invalid-input` before anything is sent. */
  allowUnverified?: boolean;
};

export interface Registration {
  /** The wallet id, hex. */
  id: string;
  /** The registration hmac, hex. */
  hmac: string;
}

export interface SignPsbtOptions extends CallOptions {
  /** Without a policy the standard single-key one is inferred from the PSBT. With a
   *  musig() policy each call is one MuSig2 round: the device's public nonces, then
   *  (once every participant's nonces are in the PSBT) its partial signatures;
   *  finalizePsbt aggregates them. */
  policy?: WalletPolicy;
  /** Finalize the signed PSBT (the result is the finalized PSBT). A MuSig2 PSBT is
   *  finalized once every participant's partial signature is in; before that the
   *  round's PSBT comes back as it is. */
  finalize?: boolean;
  /** Sign inputs that ask for a sighash other than ALL / DEFAULT (NONE, SINGLE,
   *  ANYONECANPAY): refused with `invalid-input` unless set. A Trezor signs none of
   *  them (`unsupported`). */
  allowNonDefaultSighash?: boolean;
  /** The signed transactions (hex) this one replaces: a fee bump (RBF), a payjoin.
   *  A Trezor is shown what changed rather than a new payment; a Ledger refuses
   *  (`unsupported`). */
  replaces?: string[];
}

/** Where a Trezor Safe 7's pairing credential is kept (localStorage fits). */
export interface CredentialStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface RequestDeviceOptions {
  /** Which picker to show when nothing is granted (default: Ledger's WebHID picker). */
  vendor?: Vendor;
  /** Trezor Safe 7: where its pairing credential is kept (default localStorage). */
  credentialStorage?: CredentialStorage;
  /** Status events from the start ("connecting"), then set as the device's onStatus. */
  onStatus?: (status: Status) => void;
}

/** How a device reached through `ledgerFromExchange` / `trezorFromLink` is shown. */
export interface LinkOptions {
  /** The USB product id of the device behind the link (it names the model). */
  productId?: number;
  /** trezorFromLink: what `write` and `read` carry. "messages" (default): whole codec
   *  v1 messages (`type u16 BE | length u32 BE | protobuf`), as Trezor's bridge and
   *  emulator carry them. "reports": the 64-byte USB reports a Trezor's interface
   *  carries, codec v1 or the Trezor Host Protocol's packets (a Safe 7). */
  framing?: "messages" | "reports";
  /** trezorFromLink: where a Safe 7's pairing credential is kept (default
   *  localStorage). */
  credentialStorage?: CredentialStorage;
}

/** A Trezor's far end: whole messages or 64-byte reports (see `LinkOptions.framing`)
 *  each way. */
export interface TrezorLink {
  /** Sends one message (or report). */
  write(message: Uint8Array): void | Promise<void>;
  /** The next message (or report) from the device. */
  read(): Promise<Uint8Array>;
}

/** A wallet plugged in or out (see onDeviceChange). */
export interface DeviceChange {
  type: "connect" | "disconnect";
  vendor: Vendor;
  product: string | null;
}

/** What a PSBT does (see psbtSummary); amounts in satoshi. Nothing the PSBT merely
 *  claims is given as fact: see `verified`, `change` and `warnings`. */
export interface PsbtSummary {
  inputs: {
    outpoint: string;
    /** The spent amount, when the PSBT carries the utxo. */
    amount: number | null;
    /** The amount is certain: the previous transaction is given (its txid matches),
     *  or every input is taproot (signatures commit to every amount). Otherwise it
     *  is the PSBT's word. */
    verified: boolean;
    /** A BIP-32 derivation of the input has the device's fingerprint. */
    ours: boolean;
    /** "ALL", "DEFAULT" (taproot), or another type ("NONE", "SINGLE",
     *  "ALL|ANYONECANPAY", ...) that signPsbt refuses unless allowed. */
    sighash: string;
  }[];
  outputs: {
    address: string | null;
    amount: number;
    /** Pays back to the device: the script is rebuilt from its key (or the policy). */
    change: boolean;
    /** The PSBT marks it as the device's (a derivation with its fingerprint);
     *  `claimsChange && !change` is a false change label: a payment. */
    claimsChange: boolean;
  }[];
  /** Inputs minus outputs, when every input amount is known. */
  fee: number | null;
  /** Every input amount is verified, so the fee is certain. */
  feeVerified: boolean;
  network: string;
  /** What the PSBT claims that the host could not verify, one sentence each. */
  warnings: string[];
}

export interface FinalizedPsbt {
  /** The finalized PSBT, base64. */
  psbt: string;
  /** The extracted transaction, hex. */
  tx: string;
}
"#;
