/**
 * `bench/_stryker.ts`: the instrumenter patch that lets `deno task mutate` mutate inside
 * `expr as T` applies to Stryker 9.6.1's `isTypeNode`, is idempotent, and refuses clearly any
 * other text (upstream changed, or a half-patched file); the install is made once, patched, and
 * checked by instrumenting a cast, so a patch that no longer takes effect stops the run.
 */
import assert from "node:assert/strict";
import {
  castMutated,
  ensureStryker,
  INSTRUMENTER_FILE,
  patchInstrumenter,
  type Run,
  STRYKER_VERSION,
} from "../../bench/_stryker.ts";
import { testFileOf } from "../../bench/mutate.ts";

/** The two parts of 9.6.1's `syntax-helpers.js` the patch touches, as published. */
const UPSTREAM = `export function isTypeNode(path) {
    return (path.isTypeAnnotation() ||
        flowTypeAnnotationNodeTypes.includes(path.node.type) ||
        tsTypeAnnotationNodeTypes.includes(path.node.type) ||
        isDeclareVariableStatement(path) ||
        isDeclareModule(path));
}
const tsTypeAnnotationNodeTypes = Object.freeze([
    'TSAsExpression',
    'TSInterfaceDeclaration',
    'TSTypeAnnotation',
    'TSTypeAliasDeclaration',
    'TSEnumDeclaration',
    'TSDeclareFunction',
    'TSTypeParameterInstantiation',
    'TSTypeParameterDeclaration',
]);
`;

Deno.test("patchInstrumenter: drops TSAsExpression from the skipped nodes and skips every TS type", () => {
  const { text, changed } = patchInstrumenter(UPSTREAM);
  assert.equal(changed, true);
  assert.doesNotMatch(text, /'TSAsExpression'/);
  assert.match(text, /return \(path\.isTypeAnnotation\(\) \|\|\n {8}path\.isTSType\(\) \|\|\n/);
  // nothing else moves: the other seven entries and the other four tests stay
  assert.equal(
    text.replace(/ *\/\/ selfsup patch:.*\n/, "").replace("        path.isTSType() ||\n", ""),
    UPSTREAM.replace("    'TSAsExpression',\n", ""),
  );
});

Deno.test("patchInstrumenter: idempotent (patched text comes back unchanged)", () => {
  const once = patchInstrumenter(UPSTREAM).text;
  const twice = patchInstrumenter(once);
  assert.equal(twice.changed, false);
  assert.equal(twice.text, once);
});

Deno.test("patchInstrumenter: refuses text that is neither 9.6.1's nor its patched form", () => {
  const patched = patchInstrumenter(UPSTREAM).text;
  const cases: [string, string][] = [
    // upstream fixed #6208 its own way (pull request #6228): no entry, no mark
    ["fixed upstream", UPSTREAM.replace("    'TSAsExpression',\n", "")],
    // isTypeNode rewritten
    [
      "head changed",
      UPSTREAM.replace("return (path.isTypeAnnotation() ||", "return (isAnno(path) ||"),
    ],
    [
      "two entries",
      UPSTREAM.replace("    'TSAsExpression',\n", "    'TSAsExpression',\n".repeat(2)),
    ],
    // a patched file whose list was restored (half patched)
    [
      "half patched",
      patched.replace(
        "    'TSInterfaceDeclaration',",
        "    'TSAsExpression',\n    'TSInterfaceDeclaration',",
      ),
    ],
    ["mark without isTSType", patched.replace("        path.isTSType() ||\n", "")],
    ["empty", ""],
  ];
  for (const [name, text] of cases) {
    assert.throws(
      () => patchInstrumenter(text),
      (e: Error) =>
        e.message.startsWith(`Cannot patch Stryker's instrumenter (${INSTRUMENTER_FILE}): `) &&
        e.message.includes(STRYKER_VERSION) && e.message.includes("stryker-js#6208"),
      name,
    );
  }
});

Deno.test("castMutated reads the check script's mutator names", () => {
  assert.equal(castMutated("ArithmeticOperator\n"), true);
  assert.equal(castMutated("BooleanLiteral\nArithmeticOperator"), true);
  assert.equal(castMutated(""), false);
  assert.equal(castMutated("StringLiteral\n"), false);
  // only the arithmetic mutant of \`a + b\` counts: another operator mutant is not the one asked
  assert.equal(castMutated("LogicalOperator\nEqualityOperator\n"), false);
});

Deno.test("testFileOf drops a Stryker line range", () => {
  assert.equal(testFileOf("losses/nt_xent.ts"), "tests/losses/nt_xent_test.ts");
  assert.equal(testFileOf("losses/_ops.ts:1-140"), "tests/losses/_ops_test.ts");
});

/** A stand-in for npm and node: npm "installs" (makes the two files), node prints `mutators`. */
function fakeExec(mutators: string, calls: string[][]): Run {
  return async (cmd, args, cwd) => {
    calls.push([cmd, ...args.filter((a) => !a.includes("\n")), cwd ?? ""]);
    if (cmd === "npm") {
      const dir = args[args.indexOf("--prefix") + 1];
      const file = `${dir}/${INSTRUMENTER_FILE}`;
      await Deno.mkdir(file.replace(/\/[^/]*$/, ""), { recursive: true });
      await Deno.writeTextFile(file, UPSTREAM);
      await Deno.mkdir(`${dir}/node_modules/.bin`, { recursive: true });
      await Deno.writeTextFile(`${dir}/node_modules/.bin/stryker`, "");
    }
    return { code: 0, stdout: mutators };
  };
}

Deno.test("ensureStryker installs the pinned version once, patches it and checks a cast is mutated", async () => {
  const root = await Deno.makeTempDir();
  try {
    const calls: string[][] = [];
    const exec = fakeExec("ArithmeticOperator\n", calls);
    const dir = `${root}/stryker-${STRYKER_VERSION}`;
    assert.equal(await ensureStryker(root, false, exec), `${dir}/node_modules/.bin/stryker`);
    assert.deepEqual(calls.map((c) => c[0]), ["npm", "node"]);
    assert.ok(calls[0].includes(`@stryker-mutator/core@${STRYKER_VERSION}`), calls[0].join(" "));
    assert.equal(calls[1].at(-1), dir); // the check runs where the install resolves
    const file = `${dir}/${INSTRUMENTER_FILE}`;
    assert.equal(await Deno.readTextFile(file), patchInstrumenter(UPSTREAM).text);
    // second run: no install, file unchanged, checked again
    await ensureStryker(root, false, exec);
    assert.deepEqual(calls.map((c) => c[0]), ["npm", "node", "node"]);
    assert.equal(await Deno.readTextFile(file), patchInstrumenter(UPSTREAM).text);
    // a patch that no longer takes effect (the check makes no mutant inside the cast) stops it
    await assert.rejects(
      () => ensureStryker(root, false, fakeExec("", [])),
      /the patched instrumenter in .* did not mutate `\(a \+ b\) as number` \(exit 0, mutators: none\)/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ensureStryker --stock installs a separate copy and leaves it as published", async () => {
  const root = await Deno.makeTempDir();
  try {
    const calls: string[][] = [];
    const bin = await ensureStryker(root, true, fakeExec("", calls));
    assert.equal(bin, `${root}/stryker-${STRYKER_VERSION}-stock/node_modules/.bin/stryker`);
    const file = `${root}/stryker-${STRYKER_VERSION}-stock/${INSTRUMENTER_FILE}`;
    assert.equal(await Deno.readTextFile(file), UPSTREAM);
    // a stock copy that mutates inside casts is not the stock one
    await assert.rejects(
      () => ensureStryker(root, true, fakeExec("ArithmeticOperator\n", [])),
      /the stock instrumenter in .* mutated/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ensureStryker stops on a failed npm install", async () => {
  const root = await Deno.makeTempDir();
  try {
    const failing: Run = () => Promise.resolve({ code: 1, stdout: "" });
    await assert.rejects(
      () => ensureStryker(root, false, failing),
      /npm install failed \(exit 1\)/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
