/**
 * selfsup train.
 *
 * @module
 */
export {};
