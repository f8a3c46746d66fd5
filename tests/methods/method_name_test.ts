// createMethod's name is a MethodName: a misspelled literal, or an option the named method does
// not take, fails `deno check` (the @ts-expect-error lines below fail it when they stop being
// errors); a name known only at run time still gets one TypeError listing the valid names.
import assert from "node:assert/strict";
import {
  createMethod,
  METHOD_NAMES,
  type MethodName,
  type MethodOptions,
} from "../../methods/mod.ts";

const base = { encoder: "convnet" as const, inputShape: [6, 6, 1] as [number, number, number] };

Deno.test("createMethod: a misspelled or foreign literal fails deno check", () => {
  // type-level only: never called, so no nets are built
  const typeChecks = () => {
    // @ts-expect-error "simclrr" is no MethodName
    createMethod("simclrr", { ...base, seed: 0 });
    // @ts-expect-error rotation takes no temperature (options narrowed per name)
    createMethod("rotation", { ...base, seed: 0, temperature: 0.1 });
    // every name has its options, and the common ones are accepted by each
    const ok: MethodOptions<"moco-v2"> = { ...base, seed: 0, widths: [4], queueSize: 8 };
    const name: MethodName = "moco-v2";
    return [ok, name];
  };
  assert.equal(typeof typeChecks, "function");
});

Deno.test("createMethod: an unknown name at run time is a TypeError listing every name", () => {
  for (const name of ["simclrr", "", "toString", "constructor", "__proto__"]) {
    assert.throws(
      () => createMethod(name as string, { ...base, seed: 0 }),
      (e: unknown) => {
        assert.ok(e instanceof TypeError, `${name}: ${e}`);
        assert.match(e.message, /^Unknown method: expected one of /);
        for (const m of METHOD_NAMES) assert.ok(e.message.includes(m), `${name}: lists ${m}`);
        assert.ok(e.message.endsWith(`received "${name}"`), e.message);
        return true;
      },
    );
  }
});
