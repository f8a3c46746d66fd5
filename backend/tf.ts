/**
 * The one TensorFlow.js namespace the library uses.
 *
 * `@tensorflow/tfjs-core` alone registers no gradients, so `@tensorflow/tfjs-layers` is imported
 * for its side effects (gradients and ops), and the pure-JS `cpu` backend is always registered as
 * the fallback. Users and tests import `tf` from here so they share one engine.
 *
 * Chained ops (`x.square()`) are not registered by tfjs-core's Node entry: use the functional
 * forms (`tf.square(x)`).
 *
 * @module
 */
import "@tensorflow/tfjs-layers";
import "@tensorflow/tfjs-backend-cpu";

/**
 * The TensorFlow.js namespace (`@tensorflow/tfjs-core`, with tfjs-layers' gradients and the cpu
 * backend registered).
 */
export * as tf from "@tensorflow/tfjs-core";
