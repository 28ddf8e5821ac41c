import { isMap, isScalar, parseDocument, stringify, type Document } from 'yaml';

/** An edit that cannot be made to this file (unknown model, malformed YAML): a 4xx, nothing written. */
export class EditError extends Error {
  override readonly name = 'EditError';
}

type Path = readonly (string | number)[];
type Scalar = string | number;

function open(text: string, model: string): Document.Parsed {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new EditError(`the config file is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
  if (!isMap(doc.getIn(['models', model]))) throw new EditError(`no model "${model}" in the config file`);
  return doc;
}

/**
 * Sets values at paths. When every path already holds a scalar, the new values are spliced
 * into the text at those scalars' source ranges: the rest of the file stays byte for byte.
 * Otherwise (a key added or removed) the yaml Document API edits the tree and prints it
 * again: comments stay, spacing inside flow collections may be normalized.
 */
function setValues(text: string, doc: Document.Parsed, edits: readonly [Path, Scalar][], structural?: (doc: Document.Parsed) => void): string {
  const spans: { start: number; end: number; value: string }[] = [];
  for (const [path, value] of edits) {
    const node = doc.getIn(path, true);
    if (!isScalar(node) || !node.range) {
      spans.length = 0;
      break;
    }
    spans.push({ start: node.range[0], end: node.range[1], value: stringify(value).trimEnd() });
  }
  if (structural === undefined && spans.length === edits.length) {
    let out = text;
    for (const s of spans.sort((a, b) => b.start - a.start)) out = out.slice(0, s.start) + s.value + out.slice(s.end);
    return out;
  }
  structural?.(doc);
  for (const [path, value] of edits) doc.setIn(path, value);
  return doc.toString();
}

/** The config text with `models.<model>.traffic.weights` set to `weights` (versions left out are removed). */
export function setWeights(text: string, model: string, weights: Readonly<Record<string, number>>): string {
  const doc = open(text, model);
  const path = ['models', model, 'traffic', 'weights'];
  const current = doc.getIn(path);
  const edits = Object.entries(weights).map(([version, weight]): [Path, Scalar] => [[...path, version], weight]);
  if (!isMap(current)) {
    return setValues(text, doc, [], (d) => {
      const map = d.createNode({ ...weights });
      map.flow = true;
      d.setIn(path, map);
    });
  }
  const dropped = current.items.filter((item) => !(String(isScalar(item.key) ? item.key.value : item.key) in weights));
  return setValues(text, doc, edits, dropped.length === 0 ? undefined : () => dropped.forEach((item) => current.delete(item.key)));
}

/** The config text with alias `alias` of `model` pointing at `version`. */
export function pointAlias(text: string, model: string, alias: string, version: string): string {
  return setValues(text, open(text, model), [[['models', model, 'aliases', alias], version]]);
}
