import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { stopGradient } from "../backend/stop_gradient.ts";
import { apply, BN_MOMENTUM } from "../models/_layers.ts";
import { buildEncoder, checkCount, tidyStep, variablesOf, zStd } from "./_common.ts";
import { dcganDiscriminator } from "./_gan_discriminator.ts";
import { dcganPaperGenerator } from "./_gan_generator.ts";
import { dcganInit } from "./_gan_init.ts";
import { PAPER_RECIPES } from "./recipes.ts";
import type { BaseMethodOptions, Method, MethodSetup, StepContext } from "./types.ts";

/** Options for {@linkcode gan}. `augment` is not used. */
export interface GanOptions extends BaseMethodOptions {
  /** Size of the noise vector z. @default {100} (Radford et al. 2015) */
  zDim?: number;
  /**
   * The generator's projected map and upsampling stages (see `dcganPaperGenerator`).
   * @default {[128, 64]} (the paper's 1024-512-256-128 at 64x64, scaled to 28x28)
   */
  generatorWidths?: number[];
  /**
   * Where the generator's projection BatchNorm normalizes (see `dcganPaperGenerator`):
   * `"channel"` after the reshape, as dcgan.torch, or `"unit"` on the flat projection (this
   * library's generator before 2026-12-02).
   * @default {"channel"}
   */
  generatorProjectionNorm?: "channel" | "unit";
  /**
   * The discriminator's trunk, which is the encoder probed downstream: `"dcgan"`, the paper's
   * (`dcganDiscriminator`: strided 5x5 convs, LeakyReLU 0.2, BatchNorm on all but the input
   * layer, N(0, 0.02) weights, flattened features; `encoder` and `widths` are then not used), or
   * `"encoder"`, the `encoder` option (e.g. the library's convnet, to compare methods on one
   * encoder; not DCGAN's: ReLU, BatchNorm on its input layer, global pooling).
   * @default {"dcgan"} (Radford et al. 2015)
   */
  discriminator?: "dcgan" | "encoder";
  /**
   * Widths of the `"dcgan"` discriminator's strided convs.
   * @default {[64, 128]} (the paper's 128-256-512-1024 at 64x64, scaled to 28x28)
   */
  discriminatorWidths?: number[];
  /**
   * Units of the fully connected layers of the DCGAN authors' MNIST code
   * ({@linkcode DCGAN_CODE_MNIST}: 1024), 0 for none: in the generator between z and the
   * projection (`dcganPaperGenerator`'s `hidden`), and in the critic between D's flattened
   * features and the logit (`Dense` without bias, BatchNorm, LeakyReLU 0.2), so the `encoder`
   * probed downstream stays the convolutional trunk. The paper removes such layers (Radford et
   * al. 2015, Sec. 3), hence the default.
   * @default {0}
   */
  hidden?: number;
}

/** The GAN's networks. */
export interface GanNets {
  /** The discriminator's trunk: the encoder used downstream. */
  encoder: tfl.LayersModel;
  /** Features to one real/fake logit. */
  critic: tfl.LayersModel;
  /** z `[B, zDim]` to images. */
  generator: tfl.LayersModel;
}

/** Which net a step updates: discriminator on even steps, generator on odd ones. */
export function ganPhase(context: StepContext): "discriminator" | "generator" {
  return context.step % 2 === 0 ? "discriminator" : "generator";
}

/** `log(1 + exp(x))`, stable: the logistic losses below. */
function softplus(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.relu(x), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
}

/**
 * The optimizer DCGAN trains both nets with (Radford et al. 2015, Sec. 4): Adam, learning rate
 * 2e-4, beta1 0.5 (0.9 made training oscillate and unstable), `PAPER_RECIPES.gan`'s numbers,
 * for `tf.train.adam(lr, beta1, beta2)` in loops of one's own (`bench/gan_digits.ts`).
 */
export const DCGAN_ADAM: Readonly<{ lr: number; beta1: number; beta2: number }> = {
  lr: PAPER_RECIPES.gan.baseLr,
  beta1: PAPER_RECIPES.gan.beta1!,
  beta2: PAPER_RECIPES.gan.beta2!,
};

/**
 * DCGAN's training recipe (Radford et al. 2015, Sec. 4), for runs of {@linkcode gan}: the
 * optimizer part is `PAPER_RECIPES.gan` (what `deno task pretrain --method gan` resolves by
 * default: Adam, `optimizer: "adamw"` with `weightDecay: 0`, learning rate 2e-4 not scaled with
 * the batch, beta1 0.5, beta2 0.999, constant, no warm-up), plus what the recipe table has no
 * field for: mini-batches of 128, one optimizer per net, one discriminator update then one
 * generator update per iteration (`ganPhase`: even steps D, odd steps G, so `steps` counts
 * both), z ~ U(-1, 1), N(0, 0.02) weights, LeakyReLU 0.2, the paper's nets
 * (`discriminator: "dcgan"`). The library's loop (`train`) runs one optimizer over both nets
 * (per-variable moments, so the nets' moments are still separate) and a new real batch per step.
 */
export const DCGAN_RECIPE = {
  ...PAPER_RECIPES.gan,
  lr: PAPER_RECIPES.gan.baseLr,
  batchSize: PAPER_RECIPES.gan.baseBatch,
  beta1: PAPER_RECIPES.gan.beta1!,
  beta2: PAPER_RECIPES.gan.beta2!,
  /** One optimizer per net (their moments are not shared). */
  optimizerPerNet: true,
  /** Discriminator updates per generator update. */
  discriminatorSteps: 1,
  zDim: 100,
  zDistribution: "uniform(-1, 1)",
  initStd: 0.02,
  leakySlope: 0.2,
  discriminator: "dcgan",
} as const;

/**
 * What the DCGAN authors' own MNIST script trains with beyond the paper's recipe (Newmu/dcgan_code,
 * `mnist/train_cond_dcgan.py`, a label-conditioned GAN there): fully connected layers of 1024
 * units in both nets (`ngfc`, `ndfc`; `gan`'s `hidden`), L2 weight decay 2.5e-5 added to every
 * gradient before Adam (`Regularizer(l2=2.5e-5)`: `g += l2 p`; their nets have kernels only, no
 * biases or BatchNorm scales), batches of 128, and 100 epochs at the rate then 100 decaying it
 * linearly to 0 (`niter`, `niter_decay`; {@linkcode dcganLearningRate}'s `decayFrom` at half the
 * run), each mini-batch of its 50,000 training images spent on one update of one net in turn: 391
 * per epoch, so ~39,100 updates per net in 200 epochs (`iterations` here, one D and one G update
 * each).
 */
export const DCGAN_CODE_MNIST = {
  hidden: 1024,
  weightDecay: 2.5e-5,
  batchSize: 128,
  iterations: 39_100,
  decayFrom: 19_550,
} as const;

/** Options for {@linkcode dcganLearningRate}. */
export interface DcganLearningRateOptions {
  /** The rate before the decay. */
  lr: number;
  /** The run's iterations: the rate reaches 0 there. */
  iterations: number;
  /** The first iteration of the linear decay; none (constant rate, the paper's) when absent. */
  decayFrom?: number;
}

/**
 * The learning rate at `iteration` (from 0) of the DCGAN authors' MNIST schedule: `lr` until
 * `decayFrom`, then linear to 0 at `iterations`, `lr (iterations - it) / (iterations -
 * decayFrom)` (their per-epoch steps of `lr / niter_decay` made per iteration, as
 * `bench/gan_peer/dcgan_mnist_twin.py --lr-decay-from`); constant without `decayFrom`.
 *
 * @param iteration the iteration, from 0
 * @param options rate, run length, start of the decay
 * @returns the rate, >= 0
 * @throws {RangeError} when `decayFrom` is not an integer in [0, iterations)
 *
 * @example
 * ```ts
 * import { dcganLearningRate } from "./gan.ts";
 * import assert from "node:assert/strict";
 * const at = (it: number) => dcganLearningRate(it, { lr: 2e-4, iterations: 400, decayFrom: 200 });
 * assert.equal(at(199), 2e-4);
 * assert.equal(at(300), 1e-4);
 * assert.equal(at(400), 0);
 * ```
 */
export function dcganLearningRate(iteration: number, options: DcganLearningRateOptions): number {
  const { lr, iterations, decayFrom } = options;
  if (decayFrom === undefined) return lr;
  if (!(Number.isInteger(decayFrom) && decayFrom >= 0 && decayFrom < iterations)) {
    throw new RangeError(
      `Cannot schedule the GAN's rate: expected decayFrom an integer in [0, ${iterations}), received ${decayFrom}`,
    );
  }
  if (iteration < decayFrom) return lr;
  return lr * Math.max(0, (iterations - iteration) / (iterations - decayFrom));
}

/**
 * Adversarial feature learning with a DCGAN whose discriminator is the encoder (Radford et al.
 * 2015, arXiv:1511.06434): discriminator = trunk + a linear critic, the trunk DCGAN's
 * (`dcganDiscriminator`: strided convs, LeakyReLU 0.2, BatchNorm on all but the input layer;
 * `discriminator: "encoder"` uses the `encoder` option instead), generator = DCGAN's
 * (`dcganPaperGenerator`: projection, fractionally-strided convs, BatchNorm on every layer but
 * the output, tanh output), every weight N(0, 0.02), noise `z ~ U(-1, 1)`, both nets trained with
 * {@linkcode DCGAN_RECIPE} (Adam 2e-4, beta1 0.5). The generator works on images scaled to
 * [-1, 1] as the paper's; the discriminator sees real and generated images mapped back by
 * `(x + 1) / 2` to [0, 1], the range every encoder of the library is trained and probed on (a
 * fixed affine map its first conv absorbs). Real and fake batches go through the discriminator
 * separately (their own BatchNorm statistics, as DCGAN's code), and the generator's step runs D
 * on the fakes only. Generator and discriminator updates alternate inside the one loop: even
 * steps minimize the discriminator's loss `softplus(-D(x)) + softplus(D(G(z)))` with the fakes
 * behind a stop-gradient, odd steps the generator's non-saturating loss `softplus(-D(G(z)))`,
 * written so that the discriminator's gradient is exactly zero (`ℓ(D(G z)) - ℓ(D(sg G z)) +
 * sg(ℓ(D(sg G z)))`: same value, the two D-gradients cancel), so each phase only moves its own
 * net through the gradients. `trainableAt` names the phase's variables for loops that update
 * only those. The paper's other point, the discriminator's features for classification, is the
 * `encoder` (probed like any other; `bench/pretext_probe.ts` also probes the paper's pooled
 * features). Views: `[real in [0, 1], z [B, 1, 1, zDim]]`. Metrics: `dReal` (D steps only) and
 * `dFake` (mean D probability), `dAccuracy` (D steps only), `gan` phase (0 = D, 1 = G), `zStd`.
 *
 * @param options encoder, input shape, seed, zDim, generatorWidths, discriminator,
 *   discriminatorWidths, hidden
 * @returns the method, its nets and (empty) state
 *
 * @example
 * ```ts
 * import { gan } from "./gan.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = gan({
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 0, zDim: 4, generatorWidths: [4],
 *   discriminatorWidths: [4],
 * });
 * const views = method.views(tf.randomUniform([2, 8, 8, 1]) as tf.Tensor4D, 0);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] > 0);
 * ```
 */
export function gan(options: GanOptions): MethodSetup<GanNets, Record<string, never>> & {
  method: Method<GanNets, Record<string, never>> & {
    /** The variables updated at this step: the discriminator's or the generator's. */
    trainableAt(nets: GanNets, context: StepContext): tf.Variable[];
    /** Samples `n` images in [0, 1] from the generator (inference mode, z ~ U(-1, 1)). */
    sample(nets: GanNets, n: number, seed: number): tf.Tensor4D;
  };
} {
  const {
    zDim = 100,
    generatorWidths = [128, 64],
    discriminator = "dcgan",
    hidden = 0,
  } = options;
  if (discriminator !== "dcgan" && discriminator !== "encoder") {
    throw new TypeError(
      `Cannot build gan: expected discriminator "dcgan" or "encoder", received ${
        String(discriminator)
      }`,
    );
  }
  checkCount("gan", "zDim", zDim);
  checkCount("gan", "hidden", hidden, true);
  const built = buildEncoder(
    discriminator === "dcgan"
      ? {
        ...options,
        encoder: dcganDiscriminator({
          inputShape: options.inputShape,
          widths: options.discriminatorWidths,
        }),
      }
      : options,
  );
  if (built.sequence) {
    throw new TypeError(
      "Cannot build gan: expected an encoder with [B, D] output, received [B, L, D]",
    );
  }
  const generator = dcganPaperGenerator(zDim, {
    outputShape: options.inputShape,
    widths: generatorWidths,
    projectionNorm: options.generatorProjectionNorm,
    hidden,
  });
  const init = dcganInit();
  const input = tfl.input({ shape: [built.dim] });
  // dcgan_code's MNIST discriminator: flattened features -> FC hidden, BatchNorm, LeakyReLU -> 1
  const features = hidden > 0
    ? apply(
      tfl.layers.leakyReLU({ alpha: DCGAN_RECIPE.leakySlope }),
      apply(
        tfl.layers.batchNormalization({
          momentum: BN_MOMENTUM,
          epsilon: 1e-5,
          gammaInitializer: init.gamma,
        }),
        apply(
          tfl.layers.dense({ units: hidden, useBias: false, kernelInitializer: init.kernel }),
          input,
        ),
      ),
    )
    : input;
  const critic = tfl.model({
    inputs: input,
    outputs: apply(
      tfl.layers.dense({ units: 1, name: "gan_critic", kernelInitializer: init.kernel }),
      features,
    ),
    name: "gan_critic",
  });
  const nets: GanNets = { encoder: built.encoder, critic, generator };
  /** The generator's images in [-1, 1] to the discriminator's range [0, 1]. */
  const toUnit = (g: tf.Tensor) => tf.mul(tf.add(g, 1), 0.5) as tf.Tensor4D;
  const noise = (n: number, seed: number) =>
    tf.randomUniform([n, zDim], -1, 1, "float32", seed) as tf.Tensor2D;
  const d = (nets: GanNets, x: tf.Tensor4D) => {
    const f = nets.encoder.apply(x, { training: true }) as tf.Tensor2D;
    return { f, logit: nets.critic.apply(f, { training: true }) as tf.Tensor2D };
  };
  const method = {
    name: "gan",
    views(images: tf.Tensor4D, seed: number) {
      return [
        tf.clone(images),
        tf.tidy(() => tf.reshape(noise(images.shape[0], seed), [-1, 1, 1, zDim])) as tf.Tensor4D,
      ];
    },
    step(nets: GanNets, views: tf.Tensor4D[], state: Record<string, never>, context: StepContext) {
      return tidyStep(() => {
        const [real, z] = views;
        const fake = toUnit(
          nets.generator.apply(tf.reshape(z, [-1, zDim]), { training: true }) as tf.Tensor,
        );
        const phase = ganPhase(context);
        const held = stopGradient(fake);
        // real and fake through D separately: each batch its own BatchNorm statistics (DCGAN)
        const dFake = d(nets, phase === "discriminator" ? held : fake);
        const lf = dFake.logit;
        if (phase === "discriminator") {
          const dReal = d(nets, real);
          const lr = dReal.logit;
          const metrics: Record<string, tf.Scalar> = {
            dReal: tf.mean(tf.sigmoid(lr)),
            dFake: tf.mean(tf.sigmoid(lf)),
            gan: tf.scalar(0),
            // D's accuracy at telling real (logit > 0) from fake (logit < 0); chance 0.5
            dAccuracy: tf.mean(
              tf.cast(tf.concat([tf.greater(lr, 0), tf.less(lf, 0)], 0), "float32"),
            ),
            zStd: zStd(tf.concat([dReal.f, dFake.f], 0)),
          };
          const loss = tf.add(tf.mean(softplus(tf.neg(lr))), tf.mean(softplus(lf)));
          return { loss: loss as tf.Scalar, metrics, state };
        }
        // the generator's step sees no real batch (DCGAN's G update: D(G(z)) only)
        const metrics: Record<string, tf.Scalar> = {
          dFake: tf.mean(tf.sigmoid(lf)),
          gan: tf.scalar(1),
          zStd: zStd(dFake.f),
        };
        // the same D pass with the fakes held: cancels D's gradient, keeps the value
        const heldLogit = d(nets, held).logit;
        const g = tf.mean(softplus(tf.neg(lf)));
        const gHeld = tf.mean(softplus(tf.neg(heldLogit)));
        const loss = tf.add(tf.sub(g, gHeld), stopGradient(gHeld));
        return { loss: loss as tf.Scalar, metrics, state };
      });
    },
    trainable: (nets: GanNets) => variablesOf([nets.encoder, nets.critic, nets.generator]),
    trainableAt: (nets: GanNets, context: StepContext) =>
      ganPhase(context) === "discriminator"
        ? variablesOf([nets.encoder, nets.critic])
        : variablesOf([nets.generator]),
    sample(nets: GanNets, n: number, seed: number): tf.Tensor4D {
      return tf.tidy(() =>
        toUnit(nets.generator.apply(noise(n, seed), { training: false }) as tf.Tensor)
      );
    },
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
