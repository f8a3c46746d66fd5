/**
 * selfsup methods.
 *
 * @module
 */
export {};
