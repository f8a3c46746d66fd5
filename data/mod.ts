/**
 * selfsup data.
 *
 * @module
 */

export { pcg32, type Prng, tensorSeed } from "./prng.ts";
