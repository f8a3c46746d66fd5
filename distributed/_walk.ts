import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";

/** The LayersModels and bare tf.Variables found in a nets object (fields, arrays, nesting). */
export function netsContents(
  nets: unknown,
): { models: tfl.LayersModel[]; variables: tf.Variable[] } {
  const models: tfl.LayersModel[] = [];
  const variables: tf.Variable[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown) => {
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    if (v instanceof tfl.LayersModel) models.push(v);
    else if (v instanceof tf.Variable) variables.push(v);
    else if (v instanceof tf.Tensor) return;
    else if (Array.isArray(v)) v.forEach(walk);
    else Object.values(v).forEach(walk);
  };
  walk(nets);
  return { models, variables };
}

/** Every layer of a model, descending into nested models. */
export function allLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  const out: tfl.layers.Layer[] = [];
  const walk = (layers: tfl.layers.Layer[]) => {
    for (const layer of layers) {
      out.push(layer);
      const inner = (layer as unknown as { layers?: tfl.layers.Layer[] }).layers;
      if (Array.isArray(inner)) walk(inner);
    }
  };
  walk(model.layers);
  return out;
}
