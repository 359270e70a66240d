/**
 * The Temporal server's static configuration for a single-process cluster on PostgreSQL:
 * frontend, history, matching and the system worker in one process, each on its own ports on
 * 127.0.0.1, and, with TLS, a frontend that requires client certificates.
 */
import type { ClusterCertificates } from './certs';

/** Every port the server listens on. */
export interface ServerPorts {
  frontend: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/** What the configuration is made from. */
export interface ServerConfigInput {
  ports: ServerPorts;
  postgres: { port: number; password: string };
  /** History shards: fixed for the life of the database (4 suits one machine). */
  numHistoryShards: number;
  dynamicConfigPath: string;
  logLevel: string;
  tls?: ClusterCertificates;
}

/**
 * The dynamic configuration: only what differs from the server's defaults. A search attribute
 * registered through the operator service is usable at once, not after a cache refresh.
 */
export const DYNAMIC_CONFIG = `# unwind's cluster: changes here are picked up within 10 seconds.
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
`;

/** The server configuration file's text. */
export function serverConfigYaml(input: ServerConfigInput): string {
  const { ports, postgres, tls } = input;
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${postgres.port}`,
      connectProtocol: 'tcp',
      user: 'temporal',
      password: postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number) => ({ rpc: { grpcPort, membershipPort, bindOnIP: '127.0.0.1' } });
  const config = {
    log: { stdout: true, level: input.logLevel },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: input.numHistoryShards,
      datastores: {
        'postgres-default': datastore('temporal', 20),
        'postgres-visibility': datastore('temporal_visibility', 5),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      ...(tls
        ? {
            tls: {
              frontend: {
                server: {
                  certFile: tls.serverCertPath,
                  keyFile: tls.serverKeyPath,
                  requireClientAuth: true,
                  clientCaFiles: [tls.caPath],
                },
                client: { serverName: tls.serverName, rootCaFiles: [tls.caPath] },
              },
              // The system worker (schedules, batch operations, …) is a client of the frontend too.
              systemWorker: {
                certFile: tls.clientCertPath,
                keyFile: tls.clientKeyPath,
                client: { serverName: tls.serverName, rootCaFiles: [tls.caPath] },
              },
            },
          }
        : {}),
    },
    services: {
      frontend: service(ports.frontend, ports.frontendMembership),
      history: service(ports.history, ports.historyMembership),
      matching: service(ports.matching, ports.matchingMembership),
      worker: service(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: input.dynamicConfigPath, pollInterval: '10s' },
  };
  // JSON is YAML (1.2), so the server reads it as written and unwind needs no YAML writer at run time.
  return `# Written by unwind at every start of the cluster: edits are overwritten.\n${JSON.stringify(config, null, 2)}\n`;
}
