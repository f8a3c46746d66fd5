/**
 * selfsup eval.
 *
 * @module
 */
export {};
