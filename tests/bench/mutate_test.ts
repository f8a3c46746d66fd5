/**
 * `bench/mutate.ts`'s choice of test files, through `mutateMain`'s injectable `mutate` (no Stryker
 * run): a source file listed in `COVERING_TESTS` gets its covering tests when the user names no
 * test file, line range or not; `--with` and `--only` replace them; `--filter` does not.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  COVERING_TESTS,
  coveringTestsOf,
  mutateMain,
  type Row,
  testFileOf,
} from "../../bench/mutate.ts";

type Call = [string, string[], string[], string | undefined, boolean];

/** Runs `mutateMain(args)` quietly with a spy for `mutate`; returns the exit code and its calls. */
async function calls(args: string[]): Promise<{ code: number; calls: Call[]; out: string }> {
  const seen: Call[] = [];
  const spy = (...a: Call) => (seen.push(a), Promise.resolve(null as Row | null));
  const lines: string[] = [];
  const { log, error, warn } = console;
  console.log = console.error = console.warn = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    const code = await mutateMain(args, spy);
    return { code, calls: seen, out: lines.join("\n") };
  } finally {
    Object.assign(console, { log, error, warn });
  }
}

const CTC = ["tests/eval/ctc_test.ts", "tests/eval/ctc_loss_edges_test.ts"];

Deno.test("mutate eval/ctc_loss.ts runs the tests that cover it, with or without a line range", async () => {
  const r = await calls(["eval/ctc_loss.ts", "losses/a.ts", "eval/ctc_loss.ts:1-30"]);
  assert.equal(r.code, 0, r.out);
  assert.deepEqual(r.calls, [
    ["eval/ctc_loss.ts", CTC, [], undefined, false],
    ["losses/a.ts", [], [], undefined, false],
    ["eval/ctc_loss.ts:1-30", CTC, [], undefined, false],
  ]);
  // --filter and --stock leave the covering tests in
  const f = await calls(["--filter", "/ctcLoss/", "--stock", "eval/ctc_loss.ts"]);
  assert.deepEqual(f.calls, [["eval/ctc_loss.ts", CTC, [], "/ctcLoss/", true]]);
});

Deno.test("mutate: --with and --only replace a file's covering tests", async () => {
  const w = await calls(["eval/ctc_loss.ts", "--with", "x_test.ts"]);
  assert.deepEqual(w.calls, [["eval/ctc_loss.ts", ["x_test.ts"], [], undefined, false]]);
  const o = await calls(["eval/ctc_loss.ts:5-9", "--only", "t_test.ts,u_test.ts"]);
  assert.deepEqual(o.calls, [
    ["eval/ctc_loss.ts:5-9", [], ["t_test.ts", "u_test.ts"], undefined, false],
  ]);
});

Deno.test("COVERING_TESTS names files that exist, none a mirror test, and --help lists them", async () => {
  const root = new URL("../../", import.meta.url);
  const exists = (path: string) => Deno.statSync(new URL(path, root)).isFile;
  const help = await calls(["--help"]);
  assert.equal(help.code, 0);
  assert.deepEqual(help.calls, []);
  assert.ok(Object.keys(COVERING_TESTS).length > 0);
  for (const [source, tests] of Object.entries(COVERING_TESTS)) {
    assert.ok(exists(source), source);
    assert.ok(exists(testFileOf(source)), `${source}: its mirror test`);
    assert.ok(tests.length > 0, source);
    for (const t of tests) {
      assert.ok(exists(t), t);
      assert.notEqual(t, testFileOf(source), `${source}: ${t} runs anyway`);
    }
    assert.ok(help.out.includes(`  ${source}: ${tests.join(", ")}`), `--help lists ${source}`);
  }
  // a copy: a caller's edit does not reach the table
  coveringTestsOf("eval/ctc_loss.ts").push("x_test.ts");
  assert.deepEqual(coveringTestsOf("eval/ctc_loss.ts"), CTC);
  assert.deepEqual(coveringTestsOf("losses/nt_xent.ts:1-10"), []);
});
