/**
 * Gradients that run one fused native kernel on the `native` backend and the gradient they wrap
 * everywhere else. Gradients are registered per kernel name for every backend at once, so each
 * override delegates to whatever was registered before it unless the active backend is `native`.
 *
 * @module
 */
import { BN_RELU_GRAD, isFusedOutput } from "./_bn_relu.ts";
import { LEAKY_RELU_GRAD } from "./_dnnl_eltwise.ts";
import { tf } from "../tf.ts";
import { BROADCAST_DIV, RELU_GRAD, SQUARE_GRAD } from "./_elementwise.ts";
import { isKnownZero, knownZeros } from "./_lineage.ts";

/** A gradient that runs on `native` when `fits` says the inputs suit its kernel. */
export interface NativeGradient {
  kernelName: string;
  /** Inputs the native gradient reads; must include those of the gradient it wraps. */
  inputsToSave: string[];
  fits(dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap): boolean;
  gradFunc(
    dy: tf.Tensor,
    saved: tf.Tensor[],
    attrs: tf.NamedAttrMap,
  ): Record<string, () => tf.Tensor>;
}

const installed = new Map<string, tf.GradConfig>();

/**
 * Puts `spec` on top of the global gradient registry, wrapping the gradient found there. Other
 * code may register its own gradient later (backend/kernels does, once), so this runs on every
 * activation of the backend and re-wraps whatever is on top when it is not ours.
 */
export function installGradient(spec: NativeGradient): void {
  const original = tf.getGradient(spec.kernelName);
  if (!original) return; // tfjs-layers registers the gradients; without one there is nothing to speed up
  if (original === installed.get(spec.kernelName)) return;
  const config: tf.GradConfig = {
    kernelName: spec.kernelName,
    inputsToSave: spec.inputsToSave,
    outputsToSave: original.outputsToSave,
    gradFunc: (dy, saved, attrs) => {
      const d = dy as tf.Tensor;
      if (tf.getBackend() === "native" && spec.fits(d, saved, attrs)) {
        return spec.gradFunc(d, saved, attrs);
      }
      return original.gradFunc(dy, saved, attrs);
    },
  };
  installed.set(spec.kernelName, config);
  tf.registerGradient(config);
}

/** `Relu`'s gradient as one pass (`SelfsupReluGrad`) instead of `Step`, `Cast` and `Multiply`. */
export const RELU_GRADIENT: NativeGradient = {
  kernelName: "Relu",
  inputsToSave: ["x"],
  fits: (dy, [x]) => dy.dtype === "float32" && x.dtype === "float32" && dy.size === x.size,
  gradFunc: (dy, [x]) => ({
    // A fused batch norm + ReLU's output: the gradient stays lazy for the fused backward.
    x: () =>
      tf.engine().runKernel(isFusedOutput(x) ? BN_RELU_GRAD : RELU_GRAD, { dy, x }) as tf.Tensor,
  }),
};

/** `LeakyRelu`'s gradient as one pass (`SelfsupLeakyReluGrad`) instead of `Greater`, `Multiply`, `Select`. */
export const LEAKY_RELU_GRADIENT: NativeGradient = {
  kernelName: "LeakyRelu",
  inputsToSave: ["x"],
  fits: (dy, [x]) => dy.dtype === "float32" && x.dtype === "float32" && dy.size === x.size,
  gradFunc: (dy, [x], attrs) => ({
    x: () =>
      tf.engine().runKernel(
        LEAKY_RELU_GRAD,
        { dy, x },
        { alpha: (attrs as { alpha: number }).alpha } as unknown as tf.NamedAttrMap,
      ) as tf.Tensor,
  }),
};

function reductionGradient(kernelName: "Mean" | "Sum"): NativeGradient {
  return {
    kernelName,
    inputsToSave: ["x"],
    fits: (dy, [x]) => dy.dtype === "float32" && x.dtype === "float32",
    gradFunc: (dy, [x], attrs) => {
      if (isKnownZero(dy)) return { x: () => knownZeros(x.shape) };
      const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
      const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const count = axes.reduce((p, a) => p * x.shape[a], 1);
      return {
        x: () =>
          tf.engine().runKernel(
            BROADCAST_DIV,
            { x: tf.reshape(dy, expanded) },
            {
              shape: x.shape,
              divisor: kernelName === "Mean" ? count : 1,
            } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
      };
    },
  };
}

/** `Mean`'s gradient as one broadcasting pass instead of `Fill`, `Multiply` and `RealDiv`. */
export const MEAN_GRADIENT: NativeGradient = reductionGradient("Mean");

/** `Sum`'s gradient as one broadcasting pass instead of `Fill` and `Multiply`. */
export const SUM_GRADIENT: NativeGradient = reductionGradient("Sum");

/** `Square`'s gradient as one pass instead of `Cast` and two `Multiply`s. */
export const SQUARE_GRADIENT: NativeGradient = {
  kernelName: "Square",
  inputsToSave: ["x"],
  fits: (dy, [x]) =>
    dy.dtype === "float32" && x.dtype === "float32" && dy.shape.length === x.shape.length &&
    dy.shape.every((d, i) => d === x.shape[i]),
  gradFunc: (dy, [x]) => ({
    x: () =>
      isKnownZero(dy)
        ? knownZeros(x.shape)
        : tf.engine().runKernel(SQUARE_GRAD, { a: x, b: dy }) as tf.Tensor,
  }),
};

/** `Sub`'s gradient when `dy` is a known zero (batch norm's folded statistics): known zeros. */
export const SUB_GRADIENT: NativeGradient = {
  kernelName: "Sub",
  inputsToSave: ["a", "b"],
  fits: (dy) => isKnownZero(dy),
  gradFunc: (_, [a, b]) => ({ a: () => knownZeros(a.shape), b: () => knownZeros(b.shape) }),
};
