/**
 * selfsup train: the one training loop for every method, optimizers (SGD with momentum, AdamW,
 * LARS), learning-rate schedules, gradient clipping, atomic checkpoints with exact resume,
 * `metrics.jsonl`, progress display and a kNN monitor.
 *
 * @module
 */
export {
  type BatchSource,
  type BatchSourceFactory,
  type DataParallel,
  type LrGroup,
  OPTIMIZER_NAMES,
  type OptimizerName,
  train,
  type TrainBatch,
  type TrainOptions,
  type TrainResult,
  type TrainSetup,
} from "./train.ts";
export { excludedFromWeightDecay, type Optimizer, type OptimizerState } from "./optimizer.ts";
export { sgd, type SgdOptions } from "./sgd.ts";
export { adamw, type AdamWOptions } from "./adamw.ts";
export { lars, type LarsOptions } from "./lars.ts";
export { lrSchedule, SCHEDULE_NAMES, type ScheduleName, type ScheduleOptions } from "./schedule.ts";
export { clipByGlobalNorm } from "./clip.ts";
export { type RecipeTrainOptions, recipeTrainOptions } from "./recipe_options.ts";
export {
  isModelLike,
  type ModelLike,
  restoreTree,
  type SerializedTensor,
  type SerializedTree,
  serializeTree,
  treeTensors,
} from "./serialize.ts";
export {
  checkpointLeftovers,
  hasCheckpoint,
  loadCheckpoint,
  readCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
export type {
  LoadCheckpointOptions,
  LoadedCheckpoint,
  SaveCheckpointOptions,
} from "./checkpoint.ts";
export { MetricsLog, type MetricsRecord } from "./metrics_log.ts";
export {
  formatDuration,
  type ProgressOptions,
  type ProgressReporter,
  progressReporter,
} from "./progress.ts";
export { type KnnHeldOut, knnMonitor, type KnnMonitorOptions } from "./knn_monitor.ts";
export { knnRawPixels } from "./knn_raw_pixels.ts";
export { CheckpointError, NonFiniteStateError, TrainingDivergedError } from "./errors.ts";
