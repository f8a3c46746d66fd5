import assert from "node:assert/strict";
import { ALG, ARG, dnnlOrUndefined, PROP, TAG } from "../../backend/native/_dnnl.ts";
import { type RefConv, refConv, refGeometry } from "./_conv_reference.ts";
import { pcg32, randomNormal } from "../_utils.ts";

const dnnl = dnnlOrUndefined();
const ignore = dnnl === undefined;

Deno.test({
  name: "dnnl binding: a convolution primitive over user arrays matches the float64 loops",
  ignore,
  fn() {
    const d = dnnl!;
    const c: RefConv = {
      n: 2,
      h: 7,
      w: 5,
      ci: 3,
      co: 4,
      kh: 3,
      kw: 3,
      stride: [2, 1],
      pad: "same",
    };
    const { ho, wo, top, left } = refGeometry(c);
    const prng = pcg32(3);
    const x = Float32Array.from(randomNormal(c.n * c.h * c.w * c.ci, prng));
    const f = Float32Array.from(randomNormal(c.kh * c.kw * c.ci * c.co, prng));
    const p = d.cached("test conv", () => {
      const op = d.opDesc();
      d.check(
        d.symbols.dnnl_convolution_forward_desc_init(
          op,
          PROP.forwardInference,
          ALG.convolutionDirect,
          d.memoryDesc([c.n, c.ci, c.h, c.w], TAG.acdb),
          d.memoryDesc([c.co, c.ci, c.kh, c.kw], TAG.cdba),
          null,
          d.memoryDesc([c.n, c.co, ho, wo], TAG.acdb),
          d.dims(c.stride),
          d.dims([top, left]),
          d.dims([(ho - 1) * 2 + 3 - c.h - top, (wo - 1) + 3 - c.w - left]),
        ),
        "dnnl_convolution_forward_desc_init",
      );
      return d.primitive(op, { what: "test conv" });
    });
    assert.equal(p.argBytes(ARG.dst), c.n * ho * wo * c.co * 4);
    const y = new Float32Array(c.n * ho * wo * c.co);
    p.execute({ [ARG.src]: x, [ARG.weights]: f, [ARG.dst]: y });
    const want = refConv(c, Float64Array.from(x), Float64Array.from(f));
    for (let i = 0; i < y.length; i++) {
      assert.ok(Math.abs(y[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])), `y[${i}]`);
    }
    assert.equal(d.cached("test conv", () => assert.fail("rebuilt a cached primitive")), p);
  },
});

Deno.test({
  name: "dnnl binding: a bad descriptor throws an error naming the call and the status",
  ignore,
  fn() {
    const d = dnnl!;
    const op = d.opDesc();
    // Weights with 5 input channels for a 3-channel source: invalid arguments.
    assert.throws(
      () =>
        d.check(
          d.symbols.dnnl_convolution_forward_desc_init(
            op,
            PROP.forwardInference,
            ALG.convolutionDirect,
            d.memoryDesc([1, 3, 4, 4], TAG.acdb),
            d.memoryDesc([2, 5, 3, 3], TAG.cdba),
            null,
            d.memoryDesc([1, 2, 4, 4], TAG.acdb),
            d.dims([1, 1]),
            d.dims([1, 1]),
            d.dims([1, 1]),
          ),
          "dnnl_convolution_forward_desc_init",
        ),
      /oneDNN dnnl_convolution_forward_desc_init: expected status success, received invalid_arguments/,
    );
  },
});
