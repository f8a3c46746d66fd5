/**
 * selfsup models.
 *
 * @module
 */
export {};
