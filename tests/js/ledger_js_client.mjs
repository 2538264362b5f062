// Ledger's own JS client (ledger-bitcoin@0.3.0) against hwsigner's simulated Ledger,
// through a Transport that forwards each APDU to the simulator's Speculos-style socket.
//
// Usage: node ledger_js_client.mjs PORT < job.json > result.json
import net from "node:net";
import { createRequire } from "node:module";

// Both packages are loaded as CommonJS: the ES build of @ledgerhq/hw-transport does
// not resolve under node's ES module loader.
const require = createRequire(import.meta.url);
const TransportModule = require("@ledgerhq/hw-transport");
const { AppClient, DefaultWalletPolicy, WalletPolicy } = require("ledger-bitcoin");

const Transport = TransportModule.default || TransportModule;

class SocketTransport extends Transport {
  constructor(port) {
    super();
    this.socket = net.connect(port, "127.0.0.1");
    this.buffer = Buffer.alloc(0);
    this.waiting = null;
    this.socket.on("data", (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.flush();
    });
  }
  flush() {
    if (!this.waiting || this.buffer.length < 4) return;
    const n = this.buffer.readUInt32BE(0);
    if (this.buffer.length < 4 + n + 2) return;
    const reply = this.buffer.subarray(4, 4 + n + 2);
    this.buffer = this.buffer.subarray(4 + n + 2);
    const resolve = this.waiting;
    this.waiting = null;
    resolve(Buffer.from(reply));
  }
  exchange(apdu) {
    return new Promise((resolve) => {
      this.waiting = resolve;
      const len = Buffer.alloc(4);
      len.writeUInt32BE(apdu.length);
      this.socket.write(Buffer.concat([len, apdu]));
      this.flush();
    });
  }
  async close() {
    this.socket.end();
  }
}

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const job = JSON.parse(Buffer.concat(chunks).toString());
const transport = new SocketTransport(Number(process.argv[2]));
const app = new AppClient(transport);
const out = { fingerprint: await app.getMasterFingerprint(), xpub: await app.getExtendedPubkey(job.xpub_path, false), policies: [] };
for (const p of job.policies) {
  const policy = p.register ? new WalletPolicy(p.name, p.template, p.keys) : new DefaultWalletPolicy(p.template, p.keys[0]);
  let hmac = null;
  const result = { name: p.label };
  if (p.register) {
    const [id, h] = await app.registerWallet(policy);
    hmac = h;
    result.wallet_id = id.toString("hex");
  }
  result.address = await app.getWalletAddress(policy, hmac, 0, 1, false);
  const sigs = await app.signPsbt(p.psbt, policy, hmac);
  result.signatures = sigs.map(([index, s]) => ({
    index,
    pubkey: s.pubkey.toString("hex"),
    tapleaf_hash: s.tapleafHash ? s.tapleafHash.toString("hex") : null,
    signature: s.signature.toString("hex"),
  }));
  out.policies.push(result);
}
await transport.close();
process.stdout.write(JSON.stringify(out));
