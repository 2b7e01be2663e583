import { createServer } from 'node:net';
import { isLoopback } from './configuration';

/** A listener the service opens, named by the variables an operator sets to move it. */
export interface ListenAddress {
  portVariable: 'PORT' | 'METRICS_PORT';
  hostVariable: 'HOST' | 'METRICS_HOST';
  host: string;
  port: number;
}

/**
 * A listener that cannot bind, in one line that names the variable to change: Node's own
 * `listen EADDRINUSE: address already in use 127.0.0.1:9464` names neither the listener nor
 * the setting, and two instances on one host meet it first on the metrics port.
 */
export class ListenError extends Error {
  constructor(address: ListenAddress, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const where = `${address.portVariable}=${address.port} on ${address.hostVariable}=${address.host}`;
    const why =
      code === 'EADDRINUSE'
        ? `the port is in use by another process: set ${address.portVariable} to a free port${address.portVariable === 'METRICS_PORT' ? ' (or 0 to turn the metrics listener off)' : ''}`
        : code === 'EADDRNOTAVAIL'
          ? `${address.host} is not an address of this machine: set ${address.hostVariable}`
          : code === 'EACCES'
            ? `this user may not listen on port ${address.port}: set ${address.portVariable} above 1023`
            : `${code ?? String(cause)}`;
    super(`cannot listen on ${where}: ${why}`);
  }
}

/**
 * Binds each address for a moment and lets go, before the service creates anything: a start
 * that would fail to listen then leaves no data dir or database behind. A port taken between
 * this check and the real listen still fails with a ListenError, only later.
 */
export async function ensureListenable(addresses: readonly ListenAddress[]): Promise<void> {
  for (const address of addresses) {
    if (address.port === 0) continue; // PORT=0: any free port; METRICS_PORT=0: no listener
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', (error) => reject(new ListenError(address, error)));
      probe.listen({ host: address.host, port: address.port, exclusive: true }, () => probe.close(() => resolve()));
    });
  }
}

/** The address as bound, for people: `0.0.0.0` stays `0.0.0.0`, never turned into 127.0.0.1. */
export function boundUrl(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** Said at every start that serves plain HTTP beyond this machine (SPEC §7 refuses it only in production). */
export function plainHttpWarning(host: string, tls: boolean): string | undefined {
  if (tls || isLoopback(host)) return undefined;
  return (
    `secrets-ledger: warning: plain HTTP on ${host}, reachable from other machines: bearer tokens and secret values ` +
    'travel unencrypted unless a TLS-terminating proxy is in front; set TLS_CERT_FILE and TLS_KEY_FILE to serve HTTPS'
  );
}
