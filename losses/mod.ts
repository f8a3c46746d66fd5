/**
 * selfsup losses: pure functions from tensors to a scalar loss (or, for {@linkcode sinkhorn} and
 * {@linkcode featureFlat}, to the tensors the losses consume). Contrastive: {@linkcode infoNce},
 * {@linkcode ntXent}, {@linkcode mocoInfoNce} (and their top-1 accuracies); metric learning:
 * {@linkcode contrastiveLoss}, {@linkcode tripletLoss}, {@linkcode nPairLoss}; clustering:
 * {@linkcode sinkhorn}, {@linkcode swavLoss}; non-contrastive: {@linkcode negativeCosine},
 * {@linkcode barlowTwinsLoss}, {@linkcode vicregLoss}; sequence mode: {@linkcode featureFlat}.
 *
 * @module
 */
export { infoNce, type InfoNceOptions } from "./info_nce.ts";
export { infoNceAccuracy } from "./info_nce_accuracy.ts";
export { ntXent, type NtXentOptions } from "./nt_xent.ts";
export { ntXentAccuracy } from "./nt_xent_accuracy.ts";
export { mocoInfoNce, type MocoInfoNceOptions } from "./moco_info_nce.ts";
export { mocoAccuracy } from "./moco_accuracy.ts";
export { negativeCosine } from "./negative_cosine.ts";
export { nPairLoss, type NPairLossOptions } from "./n_pair_loss.ts";
export { tripletLoss, type TripletLossOptions, type TripletMining } from "./triplet_loss.ts";
export { contrastiveLoss, type ContrastiveLossOptions } from "./contrastive_loss.ts";
export { sinkhorn, type SinkhornOptions } from "./sinkhorn.ts";
export { swavLoss, type SwavLossOptions } from "./swav_loss.ts";
export { featureFlat, type FeatureFlatOptions } from "./feature_flat.ts";
export { barlowTwinsLoss, type BarlowTwinsLossOptions } from "./barlow_twins_loss.ts";
export { vicregLoss, type VicregLossOptions } from "./vicreg_loss.ts";
export { type EmbeddingDistance } from "./_ops.ts";
