// Types: a strict TypeScript consumer of the built package (pkg/), the way a dapp uses
// it. `tsc --strict` with the default lib of target ES2022 (no esnext) and without
// skipLibCheck, so the package's .d.ts files are checked too. It compiles:
//   - every JavaScript example of README.md, each in its own module;
//   - consumer.ts (tests/js/types/), which uses every export of both entries and
//     asserts with `@ts-expect-error` that wrong calls ARE errors (an `any` would let
//     them pass, and then tsc fails on the unused directive).
// Prints "typecheck: N passed, N failed".
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const WORK = join(ROOT, "target", "typecheck");
const TSC = join(HERE, "node_modules", ".bin", "tsc");

// What the README's snippets call but leave to the page.
const PAGE_HELPERS = `import type { PinRequest, PassphraseAnswer } from "hwsigner";
import type { SimulatedDevice } from "hwsigner/simulator";
declare global {
  function askPositions(kind: PinRequest["kind"]): string;
  function askPassphrase(): PassphraseAnswer;
  function askSixDigits(): string;
  function showHint(type: string): void;
  function showButtons(prompt: string): void;
  /** The device of the first example, for the snippets that continue it. */
  var dev: SimulatedDevice;
}
export {};
`;

function main() {
  for (const f of ["hwsigner.d.ts", "full/hwsigner_full.d.ts", "simulator.d.ts", "simulator/hwsigner_sim.d.ts", "package.json"]) {
    if (!existsSync(join(ROOT, "pkg", f))) throw new Error(`pkg/${f} missing: run \`make build\` first`);
  }
  if (!existsSync(TSC)) throw new Error("tsc missing: run scripts/setup.sh");
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(join(WORK, "node_modules"), { recursive: true });
  // The package as installed: resolved through its package.json "exports".
  cpSync(join(ROOT, "pkg"), join(WORK, "node_modules", "hwsigner"), { recursive: true });
  const files = ["helpers.d.ts", "consumer.ts"];
  writeFileSync(join(WORK, "helpers.d.ts"), PAGE_HELPERS);
  cpSync(join(HERE, "types", "consumer.ts"), join(WORK, "consumer.ts"));
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  blocks.forEach((code, i) => {
    const f = `readme_${i + 1}.ts`;
    // A snippet that continues the first one uses its `dev` (declared in helpers.d.ts).
    writeFileSync(join(WORK, f), `${code}\nexport {};\n`);
    files.push(f);
  });
  writeFileSync(
    join(WORK, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "ES2022",
          moduleResolution: "bundler",
          noEmit: true,
          noUnusedLocals: false,
          types: [],
        },
        files,
      },
      null,
      2,
    ),
  );
  const r = spawnSync(process.execPath, [TSC, "-p", WORK, "--pretty", "false"], { encoding: "utf8" });
  const out = `${r.stdout}${r.stderr}`.trim();
  const errors = out.split("\n").filter((l) => /error TS\d+/.test(l));
  for (const f of files) {
    const mine = errors.filter((l) => l.includes(`${f}(`));
    console.log(`${mine.length ? "FAIL" : "ok  "} ${f}${mine.length ? `\n  ${mine.join("\n  ")}` : ""}`);
  }
  const other = errors.filter((l) => !files.some((f) => l.includes(`${f}(`)));
  for (const l of other) console.log(`FAIL ${l}`);
  if (r.status !== 0 && errors.length === 0) console.log(`FAIL tsc exited ${r.status}: ${out}`);
  const failed = files.filter((f) => errors.some((l) => l.includes(`${f}(`))).length + other.length +
    (r.status !== 0 && errors.length === 0 ? 1 : 0);
  console.log(`typecheck: ${files.length - files.filter((f) => errors.some((l) => l.includes(`${f}(`))).length} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

try {
  process.exit(main());
} catch (e) {
  console.error(e);
  console.log("typecheck: 0 passed, 1 failed");
  process.exit(1);
}
