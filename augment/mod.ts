/**
 * selfsup augment.
 *
 * @module
 */
export {};
