// The Node globals Ledger's stack expects, for its browser bundle.
export { Buffer } from "buffer";
export { default as process } from "process/browser.js";
