// A fake `navigator.hid` for the browser tests: one Ledger-like device that reassembles
// the host's 64-byte reports into APDUs, asks `respond(apdu)` for the reply (data +
// status word), and frames the reply back as `inputreport` events, as a Ledger does.
// Written independently of the Rust framing code, so the two check each other.

function frame(channel, msg) {
  const data = [msg.length >> 8, msg.length & 0xff, ...msg];
  const out = [];
  for (let seq = 0, off = 0; off < data.length; seq++, off += 59) {
    const p = new Uint8Array(64);
    p.set([channel >> 8, channel & 0xff, 0x05, seq >> 8, seq & 0xff]);
    p.set(data.slice(off, off + 59), 5);
    out.push(p);
  }
  return out;
}

// One fake Ledger on `hid`: reassembles the host's reports into APDUs, answers them
// with `respond(apdu)`, and counts what it did in `stats`.
function fakeLedgerDevice(hid, respond, productId, opts, stats) {
  const dev = new EventTarget();
  Object.assign(dev, {
    vendorId: 0x2c97,
    productId,
    productName: "Nano X (fake)",
    opened: false,
    collections: [{ usagePage: 0xffa0, usage: 1 }],
  });
  let pending = null;
  dev.open = async () => { dev.opened = true; };
  dev.close = async () => { dev.opened = false; };
  dev.sendReport = async (reportId, data) => {
    if (!dev.opened) throw new DOMException("the device is not open", "InvalidStateError");
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer || data);
    if (reportId !== 0 || bytes.length !== 64) {
      stats.errors.push(`report ${reportId} of ${bytes.length} bytes`);
      throw new TypeError("expected report id 0 and 64 bytes");
    }
    stats.reportsOut++;
    const channel = (bytes[0] << 8) | bytes[1];
    const seq = (bytes[3] << 8) | bytes[4];
    if (bytes[2] !== 0x05) { stats.errors.push("tag"); return; }
    if (seq === 0) {
      pending = { channel, len: (bytes[5] << 8) | bytes[6], data: Array.from(bytes.slice(7)), next: 1 };
    } else if (pending && seq === pending.next) {
      pending.next++;
      pending.data.push(...bytes.slice(5));
    } else {
      stats.errors.push(`sequence ${seq}`);
      return;
    }
    if (pending.data.length < pending.len) return;
    const apdu = new Uint8Array(pending.data.slice(0, pending.len));
    const ch = pending.channel;
    pending = null;
    const index = stats.exchanges++;
    if (index === opts.disconnectAtExchange) {
      setTimeout(() => {
        dev.opened = false;
        const ev = new Event("disconnect");
        ev.device = dev;
        hid.dispatchEvent(ev);
      }, 5);
      return;
    }
    const reply = respond(apdu);
    for (const p of frame(ch, Array.from(reply))) {
      setTimeout(() => {
        const ev = new Event("inputreport");
        ev.data = new DataView(p.buffer);
        ev.reportId = 0;
        ev.device = dev;
        stats.reportsIn++;
        dev.dispatchEvent(ev);
      }, 0);
    }
  };
  return dev;
}

export function installFakeLedger(respond, options) {
  const opts = Object.assign({ disconnectAtExchange: -1, granted: true }, options || {});
  const hid = new EventTarget();
  const stats = { exchanges: 0, reportsIn: 0, reportsOut: 0, errors: [] };
  const dev = fakeLedgerDevice(hid, respond, 0x4015, opts, stats);
  hid.getDevices = async () => (opts.granted ? [dev] : []);
  hid.requestDevice = async (o) => ((o.filters || []).some((f) => f.vendorId === 0x2c97) ? [dev] : []);
  Object.defineProperty(navigator, "hid", { value: hid, configurable: true });
  return { stats: () => ({ ...stats }) };
}

// Two granted Ledgers: "mine" (picked with requestDevice) and "other" (product id
// `otherProductId`), `other` listed first by getDevices. `reenumerate()` makes "mine"
// drop off the bus and come back as a new object, as a Ledger does after opening an
// app; `openOther()` opens "other" as another tab or transport would hold it.
export function installTwoFakeLedgers(respondMine, respondOther, otherProductId) {
  const opts = { disconnectAtExchange: -1 };
  const hid = new EventTarget();
  const stats = { exchanges: 0, reportsIn: 0, reportsOut: 0, errors: [] };
  let mine = fakeLedgerDevice(hid, respondMine, 0x4015, opts, stats);
  const other = fakeLedgerDevice(hid, respondOther, otherProductId, opts, stats);
  hid.getDevices = async () => [other, mine];
  hid.requestDevice = async () => [mine];
  Object.defineProperty(navigator, "hid", { value: hid, configurable: true });
  return {
    stats: () => ({ ...stats }),
    reenumerate: () => {
      const gone = mine;
      gone.opened = false;
      mine = fakeLedgerDevice(hid, respondMine, 0x4015, opts, stats);
      const ev = new Event("disconnect");
      ev.device = gone;
      hid.dispatchEvent(ev);
    },
    openOther: async () => other.open(),
  };
}

// A fake `navigator.hid` holding a legacy Trezor One (firmware before 1.7: vendor
// 0x534c, product 0x0001, usage page 0xFF00, no report id) next to its own FIDO
// interface and a Ledger, which a Trezor One request must both pass over. Each 64-byte
// report sent is answered by `respond(report)` (an array of 64-byte reports; default:
// echo it back) as `inputreport` events.
export function installFakeTrezorOne(options) {
  const opts = Object.assign({ respond: null, granted: true }, options || {});
  const hid = new EventTarget();
  const make = (fields) => Object.assign(new EventTarget(), { opened: false }, fields);
  const dev = make({
    vendorId: 0x534c,
    productId: 0x0001,
    productName: "TREZOR (fake)",
    collections: [{ usagePage: 0xff00, usage: 1 }],
  });
  const fido = make({
    vendorId: 0x534c,
    productId: 0x0001,
    productName: "TREZOR U2F (fake)",
    collections: [{ usagePage: 0xf1d0, usage: 1 }],
  });
  const ledger = make({
    vendorId: 0x2c97,
    productId: 0x4015,
    productName: "Nano X (fake)",
    collections: [{ usagePage: 0xffa0, usage: 1 }],
  });
  const stats = { reportsOut: [], reportsIn: [], filters: null, errors: [] };
  dev.open = async () => { dev.opened = true; };
  dev.close = async () => { dev.opened = false; };
  dev.sendReport = async (reportId, data) => {
    if (!dev.opened) throw new DOMException("the device is not open", "InvalidStateError");
    const bytes = new Uint8Array(data.buffer ? data.buffer.slice(data.byteOffset || 0, (data.byteOffset || 0) + data.byteLength) : data);
    if (reportId !== 0 || bytes.length !== 64) {
      stats.errors.push(`report ${reportId} of ${bytes.length} bytes`);
      throw new TypeError("expected report id 0 and 64 bytes");
    }
    stats.reportsOut.push(Array.from(bytes));
    const replies = opts.respond ? Array.from(opts.respond(bytes) || []) : [bytes];
    for (const r of replies) {
      const p = new Uint8Array(64);
      p.set(r instanceof Uint8Array ? r : Uint8Array.from(r));
      setTimeout(() => {
        stats.reportsIn.push(Array.from(p));
        const ev = new Event("inputreport");
        ev.data = new DataView(p.buffer);
        ev.reportId = 0;
        ev.device = dev;
        dev.dispatchEvent(ev);
      }, 0);
    }
  };
  hid.getDevices = async () => (opts.granted ? [ledger, fido, dev] : []);
  hid.requestDevice = async (o) => {
    stats.filters = JSON.parse(JSON.stringify((o && o.filters) || []));
    const fits = (d) => stats.filters.some((f) =>
      (f.vendorId === undefined || f.vendorId === d.vendorId) &&
      (f.productId === undefined || f.productId === d.productId) &&
      (f.usagePage === undefined || d.collections.some((c) => c.usagePage === f.usagePage)));
    // Chrome never offers the FIDO interface.
    return [ledger, dev].filter(fits);
  };
  Object.defineProperty(navigator, "hid", { value: hid, configurable: true });
  return { stats: () => JSON.parse(JSON.stringify(stats)) };
}
