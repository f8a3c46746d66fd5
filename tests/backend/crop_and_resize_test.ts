import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
import { assertTensorClose, pcg32, setupBackend } from "../_utils.ts";

await setupBackend("cpu"); // each test picks its backends itself

/** TensorFlow's crop_and_resize sampling in float64 loops, written from its documentation. */
function reference(
  image: Float64Array,
  [b, h, w, c]: number[],
  boxes: number[][],
  index: number[],
  [ch, cw]: [number, number],
  method: "bilinear" | "nearest",
  fill: number,
): Float64Array {
  const out = new Float64Array(boxes.length * ch * cw * c);
  const px = (n: number, y: number, x: number, k: number) => image[((n * h + y) * w + x) * c + k];
  boxes.forEach(([y1, x1, y2, x2], n) => {
    if (index[n] >= b) return;
    for (let i = 0; i < ch; i++) {
      const y = ch > 1
        ? y1 * (h - 1) + i * (y2 - y1) * (h - 1) / (ch - 1)
        : (y1 + y2) / 2 * (h - 1);
      for (let j = 0; j < cw; j++) {
        const x = cw > 1
          ? x1 * (w - 1) + j * (x2 - x1) * (w - 1) / (cw - 1)
          : (x1 + x2) / 2 * (w - 1);
        for (let k = 0; k < c; k++) {
          const o = ((n * ch + i) * cw + j) * c + k;
          if (y < 0 || y > h - 1 || x < 0 || x > w - 1) out[o] = fill;
          else if (method === "nearest") out[o] = px(index[n], Math.round(y), Math.round(x), k);
          else {
            const [t, l] = [Math.floor(y), Math.floor(x)];
            const [bo, r] = [Math.ceil(y), Math.ceil(x)];
            const [dy, dx] = [y - t, x - l];
            const top = px(index[n], t, l, k) * (1 - dx) + px(index[n], t, r, k) * dx;
            const bottom = px(index[n], bo, l, k) * (1 - dx) + px(index[n], bo, r, k) * dx;
            out[o] = top * (1 - dy) + bottom * dy;
          }
        }
      }
    }
  });
  return out;
}

// tfjs-backend-wasm's stock CropAndResize samples some boxes at the wrong pixels (a box over
// columns 2-13 came back as columns 0-11); selfsup registers its own kernel for wasm.
Deno.test("CropAndResize matches a float64 reference on cpu, native and wasm", async () => {
  const prng = pcg32(7);
  const shape = [3, 9, 13, 2];
  const pixels = Float64Array.from({ length: 3 * 9 * 13 * 2 }, () => prng());
  // pixel-aligned boxes (one at row 0), fractional ones, one reaching outside, a flipped one
  const boxes = [
    [0, 2 / 12, 6 / 8, 11 / 12],
    [3 / 8, 4 / 12, 1, 1],
    [0.13, 0.21, 0.77, 0.58],
    [-0.2, 0.5, 0.6, 1.3],
    [0.9, 0.8, 0.1, 0.05],
  ];
  const index = [0, 1, 2, 1, 0];
  for (const backend of ["cpu", "native", "wasm"] as const) {
    await useBackend(backend, { quiet: true });
    for (const method of ["bilinear", "nearest"] as const) {
      for (const size of [[5, 7], [1, 1], [7, 10]] as [number, number][]) {
        const got = tf.tidy(() =>
          tf.image.cropAndResize(
            tf.tensor4d(Float32Array.from(pixels), shape as [number, number, number, number]),
            tf.tensor2d(boxes),
            tf.tensor1d(index, "int32"),
            size,
            method,
            -1,
          )
        );
        const want = reference(
          Float64Array.from(Float32Array.from(pixels)),
          shape,
          boxes.map((bx) => Array.from(Float32Array.from(bx))),
          index,
          size,
          method,
          -1,
        );
        assertTensorClose(got, want, { rtol: 1e-5, atol: 1e-5 }, `${backend} ${method} [${size}]:`);
        got.dispose();
      }
    }
  }
  await setupBackend("cpu");
});
