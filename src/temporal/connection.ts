/**
 * How unwind reaches a Temporal cluster: address, namespace and TLS, from the environment
 * (the names the Temporal CLI uses) with explicit overrides from flags or code.
 */
import { readFileSync } from 'node:fs';

/** Where and how to connect. */
export interface ConnectionConfig {
  /** `host:port` of the frontend; `TEMPORAL_ADDRESS`, default `localhost:7233`. */
  address: string;
  /** `TEMPORAL_NAMESPACE`, default `default`. */
  namespace: string;
  /** TLS material, when the cluster requires it. */
  tls?: TlsConfig;
}

/** Paths to PEM files; a client certificate and key for mTLS, a CA for a private root. */
export interface TlsConfig {
  certPath?: string;
  keyPath?: string;
  caPath?: string;
  serverName?: string;
}

/**
 * Reads the connection settings from the environment: `TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, and for TLS `TEMPORAL_TLS=true`, `TEMPORAL_TLS_CERT`, `TEMPORAL_TLS_KEY`,
 * `TEMPORAL_TLS_CA`, `TEMPORAL_TLS_SERVER_NAME`. Explicit `overrides` win.
 */
export function connectionConfig(overrides: Partial<ConnectionConfig> = {}, env = process.env): ConnectionConfig {
  const tlsFromEnv: TlsConfig = {
    certPath: env.TEMPORAL_TLS_CERT,
    keyPath: env.TEMPORAL_TLS_KEY,
    caPath: env.TEMPORAL_TLS_CA,
    serverName: env.TEMPORAL_TLS_SERVER_NAME,
  };
  const wantsTls = env.TEMPORAL_TLS === 'true' || Object.values(tlsFromEnv).some(Boolean);
  return {
    address: overrides.address ?? env.TEMPORAL_ADDRESS ?? 'localhost:7233',
    namespace: overrides.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default',
    tls: overrides.tls ?? (wantsTls ? tlsFromEnv : undefined),
  };
}

/**
 * The `tls` option of `Connection.connect` / `NativeConnection.connect`.
 * @throws when a configured PEM file cannot be read; the message names the file.
 */
export function sdkTlsOptions(tls: TlsConfig | undefined) {
  if (!tls) return undefined;
  const read = (what: string, path: string | undefined) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`Cannot read the TLS ${what} at ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const crt = read('client certificate', tls.certPath);
  const key = read('client key', tls.keyPath);
  if (Boolean(crt) !== Boolean(key)) {
    throw new Error('TLS needs both a client certificate (TEMPORAL_TLS_CERT) and its key (TEMPORAL_TLS_KEY), or neither.');
  }
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: read('CA certificate', tls.caPath),
    clientCertPair: crt && key ? { crt, key } : undefined,
  };
}
