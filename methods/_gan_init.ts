import * as tfl from "@tensorflow/tfjs-layers";

/** The standard deviation DCGAN draws every weight from (Radford et al. 2015, Sec. 4). */
export const DCGAN_INIT_STD = 0.02;

/**
 * DCGAN's initializers (Radford et al. 2015, Sec. 4: "All weights were initialized from a
 * zero-centered Normal distribution with standard deviation 0.02"): kernels N(0, 0.02), and
 * BatchNorm scales N(1, 0.02) as the authors' code (dcgan.torch) draws them (a zero-centred scale
 * would switch every unit off). Drawn from `Math.random` like every initializer of the library
 * (`withSeed` seeds them).
 *
 * @returns `kernel` and `gamma` initializers
 *
 * @example
 * ```ts
 * import { dcganInit } from "./_gan_init.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * const dense = tfl.layers.dense({ units: 4, kernelInitializer: dcganInit().kernel });
 * ```
 */
export function dcganInit(): {
  kernel: ReturnType<typeof tfl.initializers.randomNormal>;
  gamma: ReturnType<typeof tfl.initializers.randomNormal>;
} {
  return {
    kernel: tfl.initializers.randomNormal({ mean: 0, stddev: DCGAN_INIT_STD }),
    gamma: tfl.initializers.randomNormal({ mean: 1, stddev: DCGAN_INIT_STD }),
  };
}
