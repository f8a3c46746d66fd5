/**
 * selfsup eval: kNN and linear/MLP probes on frozen features, fine-tuning and supervised
 * baselines, CTC sequence recognition and its metrics, encoder export, and SVG plots.
 *
 * @module
 */
export * from "./extract_features.ts";
export * from "./knn_classify.ts";
export * from "./knn_accuracy.ts";
export * from "./knn_accuracies.ts";
export * from "./ctc_loss.ts";
export * from "./ctc_greedy_decode.ts";
export * from "./ctc_beam_search.ts";
export * from "./edit_distance.ts";
export * from "./character_error_rate.ts";
export * from "./sequence_accuracy.ts";
export * from "./top1_accuracy.ts";
export * from "./ctc_head.ts";
export * from "./linear_probe.ts";
export * from "./mlp_probe.ts";
export * from "./fine_tune.ts";
export * from "./train_supervised.ts";
export * from "./evaluate_model.ts";
export * from "./export_encoder.ts";
export * from "./load_encoder.ts";
export * from "./plot_lines.ts";
export * from "./plot_umap.ts";
