import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
import * as aug from "../../augment/mod.ts";
import { assertTensorClose } from "../_utils.ts";
import { images } from "./_helpers.ts";

// Every random parameter is drawn on the JS side, so the same seed gives the same views on every
// backend, up to float rounding of the kernels. This also guards the batch-correct Transform kernel
// registered for cpu and native (tfjs-backend-cpu's transforms only the first sample of a batch).
Deno.test("augmentations give the same output on the cpu, native and wasm backends", async () => {
  const cases: [string, aug.Augmentation, [number, number, number, number]][] = [
    ["randomResizedCrop", aug.randomResizedCrop({ size: 12 }), [4, 16, 16, 3]],
    ["randomScale", aug.randomScale({ fill: "nearest" }), [4, 12, 20, 1]],
    ["randomAffine", aug.randomAffine({ degrees: 10 }), [4, 12, 20, 1]],
    ["gaussianBlur", aug.gaussianBlur({ kernelSize: 5 }), [4, 12, 12, 3]],
    ["colorJitter", aug.colorJitter(), [4, 8, 8, 3]],
    ["gaussianNoise", aug.gaussianNoise(), [4, 8, 8, 3]],
    ["simclrAugment", aug.simclrAugment({ blur: true }), [4, 16, 16, 3]],
    ["textAugment", aug.textAugment(), [4, 16, 48, 1]],
    ["mnistAugment", aug.mnistAugment(), [4, 28, 28, 1]],
  ];
  const run = async (backend: "cpu" | "wasm" | "native") => {
    await useBackend(backend, { quiet: true });
    return cases.map(([, op, shape]) =>
      tf.tidy(() => Float32Array.from(op(images(shape, 3), 21).dataSync()))
    );
  };
  const cpu = await run("cpu");
  const wasm = await run("wasm");
  const native = await run("native");
  await useBackend("cpu", { quiet: true });
  cases.forEach(([name], i) => {
    assertTensorClose(wasm[i], cpu[i], { rtol: 1e-4, atol: 1e-4 }, `${name} (wasm):`);
    assertTensorClose(native[i], cpu[i], { rtol: 1e-4, atol: 1e-4 }, `${name} (native):`);
  });
});
