// The offline Kubernetes tools scripts/install-k8s-tools.sh puts under .tmp/k8s-tools, and
// the kustomizations they check. Tests use these; so can an operator (`kustomize build`).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../envoy-bin.js';

export const K8S_TOOLS_DIR = join(REPO_ROOT, '.tmp/k8s-tools');
export const KUBERNETES_DIR = join(REPO_ROOT, 'deploy/kubernetes');
/** Every kustomization a user may apply (the base is applied through an overlay). */
export const KUSTOMIZATIONS = ['base', 'overlays/demo', 'overlays/production', 'envoy-gateway'] as const;
export type Kustomization = (typeof KUSTOMIZATIONS)[number];
/** The oldest Kubernetes the manifests target (native sidecars, preStop sleep) and the newest with schemas. */
export const KUBERNETES_VERSIONS = ['1.30.0', '1.37.0'] as const;

export const INSTALL_HINT = 'bash scripts/install-k8s-tools.sh';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export type Tool = 'kustomize' | 'egctl' | 'validator' | 'crds';

/** Where a tool is, or undefined when scripts/install-k8s-tools.sh has not installed it. */
export function toolPath(tool: Tool): string | undefined {
  const path = {
    kustomize: join(K8S_TOOLS_DIR, 'bin/kustomize'),
    egctl: join(K8S_TOOLS_DIR, 'bin/egctl'),
    validator: join(K8S_TOOLS_DIR, 'venv/bin/python'),
    crds: crdDir(),
  }[tool];
  return path !== undefined && existsSync(path) ? path : undefined;
}

function crdDir(): string | undefined {
  const root = join(K8S_TOOLS_DIR, 'crds');
  if (!existsSync(root)) return undefined;
  const complete = readdirSync(root).filter((v) => existsSync(join(root, v, '.complete')));
  return complete.length > 0 ? join(root, complete.sort().at(-1) as string) : undefined;
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** `kustomize build` of one kustomization, as YAML. */
export function kustomizeBuildText(dir: Kustomization): string {
  const bin = toolPath('kustomize');
  if (!bin) throw new Error(`kustomize is not installed: ${INSTALL_HINT}`);
  return execFileSync(bin, ['build', join(KUBERNETES_DIR, dir)], { encoding: 'utf8' });
}

export function kustomizeBuild(dir: Kustomization): K8sObject[] {
  return parseManifests(kustomizeBuildText(dir));
}

/** The one object of a kind and name; throws when missing, so a test names what it lacked. */
export function find<T = K8sObject>(objects: readonly K8sObject[], kind: string, name: string | RegExp): T {
  const hit = objects.find((o) => o.kind === kind && (typeof name === 'string' ? o.metadata.name === name : name.test(o.metadata.name)));
  if (!hit) throw new Error(`no ${kind} ${String(name)} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hit as T;
}
