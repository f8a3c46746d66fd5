/**
 * selfsup losses.
 *
 * @module
 */
export {};
