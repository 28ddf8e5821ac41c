import { isMap, parseDocument, type Document } from 'yaml';

/** An edit that cannot be made to this file (unknown model, malformed YAML): a 4xx, nothing written. */
export class EditError extends Error {
  override readonly name = 'EditError';
}

function open(text: string, model: string): Document.Parsed {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new EditError(`the config file is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
  if (!isMap(doc.getIn(['models', model]))) throw new EditError(`no model "${model}" in the config file`);
  return doc;
}

/**
 * The config text with `models.<model>.traffic.weights` set to `weights` (versions left out
 * are removed). Comments and layout elsewhere stay as written (the yaml Document API edits
 * the parsed tree, not a re-serialized object).
 */
export function setWeights(text: string, model: string, weights: Readonly<Record<string, number>>): string {
  const doc = open(text, model);
  const path = ['models', model, 'traffic', 'weights'];
  const current = doc.getIn(path);
  if (isMap(current)) {
    for (const item of [...current.items]) {
      const key = String((item.key as { value?: unknown })?.value ?? item.key);
      if (!(key in weights)) current.delete(item.key);
    }
    for (const [version, weight] of Object.entries(weights)) doc.setIn([...path, version], weight);
  } else {
    const map = doc.createNode({ ...weights });
    map.flow = true;
    doc.setIn(path, map);
  }
  return doc.toString();
}

/** The config text with alias `alias` of `model` pointing at `version`. */
export function pointAlias(text: string, model: string, alias: string, version: string): string {
  const doc = open(text, model);
  doc.setIn(['models', model, 'aliases', alias], version);
  return doc.toString();
}
