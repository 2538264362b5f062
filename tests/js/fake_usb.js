// A fake `navigator.usb` for the browser tests: one Trezor-like device that takes
// 64-byte transfers on endpoint 1 and answers with 64-byte transfers on endpoint 1.
// It enforces what a real USBDevice does (open before use, a configuration before
// claiming, a claimed interface before transfers) and can misbehave on request.
//
// options:
//   productId        0x53c1 (default) or 0x53c0 (bootloader)
//   granted          getDevices() lists the device (default true)
//   cancelPicker     requestDevice() rejects as if the user closed the picker
//   claimFailures    how many claimInterface calls fail first (-1: all of them)
//   disconnectAtIn   the k-th transferIn (from 1) makes the device vanish 20 ms later
//   vanishDelayMs    that delay (default 20; 0: at once, before the read can be
//                    answered, so the k-th read itself fails)
//   settleOnDisconnect  pending transfers reject on disconnect, as Chrome does
//                    (default true; false leaves them pending forever)
//   respond(packet)  returns an array of 64-byte replies for each packet sent
//                    (default: echo the packet back; return [] for silence)
//   replyDelayMs     delay before replies become readable (default 0)
//   badIn            results for the first transferIn calls, one each: "stall",
//                    "babble", "nodata" ({status: "ok"} without data), "null"
//   outFailures      how many transferOut calls reject first (a transfer error)
// The handle returned has stats() (counts and the bytes seen) and disconnect().

export function installFakeTrezor(options) {
  const opts = Object.assign(
    {
      productId: 0x53c1,
      granted: true,
      cancelPicker: false,
      claimFailures: 0,
      disconnectAtIn: -1,
      vanishDelayMs: 20,
      settleOnDisconnect: true,
      respond: null,
      replyDelayMs: 0,
      badIn: [],
      outFailures: 0,
    },
    options || {},
  );
  const usb = new EventTarget();
  const dev = {
    vendorId: 0x1209,
    productId: opts.productId,
    productName: opts.productId === 0x53c0 ? "TREZOR (bootloader, fake)" : "TREZOR (fake)",
    opened: false,
    configuration: null,
    configurations: [{ configurationValue: 1 }],
  };
  const stats = {
    opens: 0,
    closes: 0,
    selectConfiguration: 0,
    claims: 0,
    releases: 0,
    transfersOut: 0,
    transfersIn: 0,
    clearHalts: 0,
    packetsOut: [],
    packetsIn: [],
    filters: null,
    errors: [],
  };
  let claimed = false;
  let gone = false;
  let failuresLeft = opts.claimFailures;
  let outFailuresLeft = opts.outFailures;
  const badIn = Array.from(opts.badIn);
  const ready = []; // replies waiting for a transferIn
  const waiting = []; // transferIn calls waiting for a reply: {resolve, reject}

  const fail = (name, message) => Promise.reject(new DOMException(message, name));
  const usable = () => {
    if (gone) return "NotFoundError";
    if (!dev.opened) return "InvalidStateError";
    return null;
  };

  function deliver() {
    while (ready.length && waiting.length) {
      const bytes = ready.shift();
      const w = waiting.shift();
      stats.packetsIn.push(Array.from(bytes));
      w.resolve({ status: "ok", data: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    }
  }

  function vanish() {
    if (gone) return;
    gone = true;
    dev.opened = false;
    claimed = false;
    const pending = waiting.splice(0);
    if (opts.settleOnDisconnect) {
      for (const w of pending) w.reject(new DOMException("The device was disconnected.", "NotFoundError"));
    }
    const ev = new Event("disconnect");
    ev.device = dev;
    usb.dispatchEvent(ev);
  }

  dev.open = async () => {
    if (gone) return fail("NotFoundError", "The device was disconnected.");
    stats.opens++;
    dev.opened = true;
  };
  dev.close = async () => {
    stats.closes++;
    dev.opened = false;
    claimed = false;
    for (const w of waiting.splice(0)) w.reject(new DOMException("The transfer was cancelled.", "AbortError"));
  };
  dev.selectConfiguration = async (value) => {
    const bad = usable();
    if (bad) return fail(bad, "cannot select a configuration now");
    stats.selectConfiguration++;
    if (value !== 1) return fail("NotFoundError", `no configuration ${value}`);
    dev.configuration = { configurationValue: 1 };
  };
  dev.claimInterface = async (number) => {
    const bad = usable();
    if (bad) return fail(bad, "cannot claim now");
    stats.claims++;
    if (!dev.configuration) return fail("InvalidStateError", "no configuration selected");
    if (number !== 0) return fail("NotFoundError", `no interface ${number}`);
    if (failuresLeft !== 0) {
      if (failuresLeft > 0) failuresLeft--;
      return fail("NetworkError", "Unable to claim interface.");
    }
    claimed = true;
  };
  dev.releaseInterface = async (number) => {
    const bad = usable();
    if (bad) return fail(bad, "cannot release now");
    if (number !== 0 || !claimed) return fail("InvalidStateError", "interface not claimed");
    stats.releases++;
    claimed = false;
  };
  dev.transferOut = async (endpoint, data) => {
    const bad = usable();
    if (bad) return fail(bad, bad === "NotFoundError" ? "The device was disconnected." : "not open");
    const bytes = new Uint8Array(data.buffer ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data);
    if (!claimed || endpoint !== 1 || bytes.length !== 64) {
      stats.errors.push(`transferOut(${endpoint}, ${bytes.length} bytes), claimed ${claimed}`);
      return fail("InvalidAccessError", "bad transferOut");
    }
    stats.transfersOut++;
    if (outFailuresLeft > 0) {
      outFailuresLeft--;
      return fail("NetworkError", "A transfer error has occurred.");
    }
    stats.packetsOut.push(Array.from(bytes));
    const replies = opts.respond ? Array.from(opts.respond(bytes) || []) : [bytes];
    setTimeout(() => {
      for (const r of replies) {
        const p = new Uint8Array(64);
        p.set(r instanceof Uint8Array ? r : Uint8Array.from(r));
        ready.push(p);
      }
      deliver();
    }, opts.replyDelayMs);
    return { status: "ok", bytesWritten: 64 };
  };
  dev.clearHalt = async (direction, endpoint) => {
    const bad = usable();
    if (bad) return fail(bad, "cannot clear a halt now");
    if (direction !== "in" || endpoint !== 1) return fail("NotFoundError", "no such endpoint");
    stats.clearHalts++;
  };
  dev.transferIn = (endpoint, length) => {
    const bad = usable();
    if (bad) return fail(bad, bad === "NotFoundError" ? "The device was disconnected." : "not open");
    if (!claimed || endpoint !== 1 || length !== 64) {
      stats.errors.push(`transferIn(${endpoint}, ${length}), claimed ${claimed}`);
      return fail("InvalidAccessError", "bad transferIn");
    }
    stats.transfersIn++;
    if (badIn.length) {
      const bad = badIn.shift();
      if (bad === "null") return Promise.resolve(null);
      if (bad === "nodata") return Promise.resolve({ status: "ok" });
      return Promise.resolve({ status: bad, data: new DataView(new ArrayBuffer(0)) });
    }
    const result = new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    if (stats.transfersIn === opts.disconnectAtIn) {
      if (opts.vanishDelayMs === 0) vanish();
      else setTimeout(vanish, opts.vanishDelayMs);
    }
    deliver();
    return result;
  };

  usb.getDevices = async () => (opts.granted && !gone ? [dev] : []);
  usb.requestDevice = async (o) => {
    stats.filters = JSON.parse(JSON.stringify((o && o.filters) || []));
    if (opts.cancelPicker) throw new DOMException("No device selected.", "NotFoundError");
    const match = stats.filters.some(
      (f) => f.vendorId === dev.vendorId && (f.productId === undefined || f.productId === dev.productId),
    );
    if (!match) throw new DOMException("No device selected.", "NotFoundError");
    return dev;
  };
  Object.defineProperty(navigator, "usb", { value: usb, configurable: true });
  return {
    stats: () => JSON.parse(JSON.stringify(stats)),
    disconnect: () => vanish(),
  };
}
