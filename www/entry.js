// Which entry of the npm package the demo runs on: `hwsigner/full` (the default entry
// and the miniscript and MuSig2 add-ons: every panel works), or with `?entry=default`
// the default entry a dapp ships (the MuSig2 panel and miniscript address checks then
// say which add-on they need). Both have the same API.
const params = new URLSearchParams(location.search);
export const entryName = params.get("entry") === "default" ? "hwsigner" : "hwsigner/full";
export const hw =
  entryName === "hwsigner" ? await import("../pkg/hwsigner.js") : await import("../pkg/full/hwsigner_full.js");
