import * as tfl from "@tensorflow/tfjs-layers";

/** A tfjs-layers initializer (the type tfjs-layers does not export by name). */
type Initializer = ReturnType<typeof tfl.initializers.varianceScaling>;

/** A symbolic tensor in a functional tfjs-layers graph. */
export type Sym = tfl.SymbolicTensor;

/** Keras' BatchNormalization momentum equivalent to PyTorch's default 0.1. */
export const BN_MOMENTUM = 0.9;

/**
 * How kernels are drawn: `"pytorch"` is PyTorch's default for `nn.Conv2d` and `nn.Linear`
 * (`kaiming_uniform_(a=sqrt(5))`, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for
 * biases); `"he-normal"` is tfjs-layers' `heNormal` (a normal of std sqrt(2 / fan_in) truncated at
 * 2 std, so 0.88 sqrt(2 / fan_in) in fact), about the scale torchvision's ResNet draws its
 * convolutions at.
 */
export type KernelInit = "pytorch" | "he-normal";

/**
 * PyTorch's default kernel initializer (`nn.Conv2d.reset_parameters`, `nn.Linear`):
 * kaiming-uniform with a = sqrt(5), which is U(-b, b) with b = 1 / sqrt(fan_in) (variance scaling
 * 1/3, fan-in, uniform: limit sqrt(3 * (1/3) / fan_in)).
 */
export function pytorchKernelInitializer(): Initializer {
  return tfl.initializers.varianceScaling({ scale: 1 / 3, mode: "fanIn", distribution: "uniform" });
}

/** PyTorch's default bias initializer for a layer with `fanIn` inputs: U(±1/sqrt(fan_in)). */
export function pytorchBiasInitializer(fanIn: number): Initializer {
  const bound = 1 / Math.sqrt(fanIn);
  return tfl.initializers.randomUniform({ minval: -bound, maxval: bound });
}

/** Applies one layer to one symbolic tensor. */
export function apply(layer: tfl.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** conv -> BatchNorm -> (ReLU): the unit every encoder here is made of. */
export function convBn(
  x: Sym,
  filters: number,
  options: {
    kernel?: number;
    strides?: number;
    relu?: boolean;
    momentum?: number;
    init?: KernelInit;
  },
): Sym {
  const { kernel = 3, strides = 1, relu = true, momentum = BN_MOMENTUM, init = "he-normal" } =
    options;
  let y = apply(
    tfl.layers.conv2d({
      filters,
      kernelSize: kernel,
      strides,
      padding: "same",
      useBias: false,
      kernelInitializer: init === "pytorch" ? pytorchKernelInitializer() : "heNormal",
    }),
    x,
  );
  y = apply(tfl.layers.batchNormalization({ momentum, epsilon: 1e-5 }), y);
  return relu ? apply(tfl.layers.reLU(), y) : y;
}

/** Checks a widths option: positive integers, the expected count. */
export function checkWidths(what: string, widths: number[], count?: number): void {
  if (!Array.isArray(widths) || (count !== undefined && widths.length !== count)) {
    throw new TypeError(
      `Cannot build ${what}: widths must be an array of ${count ?? "some"} numbers, received ${
        JSON.stringify(widths)
      }`,
    );
  }
  for (const w of widths) {
    if (!Number.isInteger(w) || w < 1) {
      throw new RangeError(
        `Cannot build ${what}: widths must be positive integers, received ${
          JSON.stringify(widths)
        }`,
      );
    }
  }
}

/** Checks an `[h, w, c]` input shape (h and w may be null for size-agnostic encoders). */
export function checkInputShape(
  what: string,
  shape: readonly (number | null)[],
  needHeight = false,
): void {
  const ok = Array.isArray(shape) && shape.length === 3 &&
    shape.every((d, i) =>
      (d === null && i < 2 && !(needHeight && i === 0)) ||
      (Number.isInteger(d) && (d as number) > 0)
    );
  if (!ok) {
    throw new TypeError(
      `Cannot build ${what}: inputShape must be [height, width, channels]${
        needHeight ? " with a known height" : ""
      }, received ${JSON.stringify(shape)}`,
    );
  }
}
