import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of one certificate: its key and the certificate itself. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** The files of an mTLS setup between Envoy and the ext-proc, plus an outsider's. */
export interface MtlsFiles {
  dir: string;
  /** The CA that signs the ext-proc's certificate (Envoy trusts it: `serverCa`). */
  serverCa: string;
  /** The CA that signs Envoy's client certificate (the ext-proc trusts it: `clientCa`). */
  clientCa: string;
  /** The ext-proc's certificate, for `serverName` and 127.0.0.1. */
  server: CertFiles;
  /** Envoy's client certificate. */
  envoy: CertFiles;
  /** A client certificate from a CA nobody trusts. */
  stranger: CertFiles;
}

/**
 * Generates the CAs and certificates with the openssl CLI (installed by .ci/run): two CAs as a
 * real deployment would have (one per side), the leaf certificates they sign, and a third CA's
 * client certificate that the ext-proc must refuse.
 */
export function makeMtlsFiles(serverName: string): MtlsFiles {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-mtls-'));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

  const ca = (name: string) => {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', `/CN=${name}`, '-keyout', path(`${name}.key`), '-out', path(`${name}.crt`));
    return { cert: path(`${name}.crt`), key: path(`${name}.key`) };
  };
  const leaf = (name: string, issuer: CertFiles, extensions: string): CertFiles => {
    const ext = path(`${name}.ext`);
    writeFileSync(ext, `${extensions}\nbasicConstraints=CA:FALSE\n`);
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`,
      '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`));
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', issuer.cert, '-CAkey', issuer.key, '-CAcreateserial',
      '-days', '2', '-extfile', ext, '-out', path(`${name}.crt`));
    return { cert: path(`${name}.crt`), key: path(`${name}.key`) };
  };

  const serverCa = ca('ext-proc-ca');
  const clientCa = ca('envoy-ca');
  const strangerCa = ca('stranger-ca');
  return {
    dir,
    serverCa: serverCa.cert,
    clientCa: clientCa.cert,
    server: leaf('ext-proc', serverCa, `subjectAltName=DNS:${serverName},IP:127.0.0.1\nextendedKeyUsage=serverAuth`),
    envoy: leaf('envoy', clientCa, 'extendedKeyUsage=clientAuth'),
    stranger: leaf('stranger', strangerCa, 'extendedKeyUsage=clientAuth'),
  };
}
