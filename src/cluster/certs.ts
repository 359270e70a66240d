/**
 * The certificates of a cluster with mutual TLS, made once with `openssl` and kept in its data
 * folder: a CA, a server certificate for localhost and 127.0.0.1, and a client certificate
 * (the one clients, workers and the server's own system worker present).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerUnavailableError } from '../temporal/servers';
import { runCommand } from './processes';

/** PEM files of a cluster's TLS. */
export interface ClusterCertificates {
  caPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** The name the server certificate is for, and clients verify. */
  serverName: string;
}

/** The certificates in `dir`, made with openssl when they are not there yet. */
export async function ensureCertificates(dir: string): Promise<ClusterCertificates> {
  const certs: ClusterCertificates = {
    caPath: join(dir, 'ca.pem'),
    serverCertPath: join(dir, 'server.pem'),
    serverKeyPath: join(dir, 'server.key'),
    clientCertPath: join(dir, 'client.pem'),
    clientKeyPath: join(dir, 'client.key'),
    serverName: 'localhost',
  };
  if (Object.values(certs).every((path) => path === certs.serverName || existsSync(path))) return certs;
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) {
    throw new ServerUnavailableError('A cluster with TLS makes its certificates with openssl, which is not installed (Debian/Ubuntu: apt-get install openssl).');
  }
  // Made in a staging folder and moved in one step: a half-made set is never used.
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const at = (name: string) => join(staging, name);
  const openssl = (...args: string[]) => runCommand('openssl', args);
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    'req', '-x509', ...ecKey, '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '3650',
    '-subj', '/O=unwind/CN=unwind cluster CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  );
  const issue = async (name: string, subject: string, extensions: string) => {
    writeFileSync(at(`${name}.ext`), extensions);
    await openssl('req', ...ecKey, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', subject);
    await openssl(
      'x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial',
      '-out', at(`${name}.pem`), '-days', '825', '-extfile', at(`${name}.ext`),
    );
    rmSync(at(`${name}.csr`));
    rmSync(at(`${name}.ext`));
  };
  await issue(
    'server',
    '/O=unwind/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  await issue('client', '/O=unwind/CN=unwind client', 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  return certs;
}
