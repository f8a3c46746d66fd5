/**
 * selfsup eval: kNN and linear/MLP probes on frozen features, fine-tuning and supervised
 * baselines, CTC sequence recognition and its metrics, encoder export, and SVG plots.
 *
 * @module
 */
export * from "./extract_features.ts";
export * from "./knn_classify.ts";
export * from "./knn_accuracy.ts";
