import { createServer } from 'node:net';

export interface NamedPort {
  port: number;
  /** The environment variable that sets it, named in the error. */
  variable: string;
}

export class PortInUseError extends Error {
  constructor(readonly port: NamedPort) {
    super(
      `port ${port.port} on 127.0.0.1 is already in use (${port.variable}). Stop whatever holds it ` +
        `(an earlier npm start? \`lsof -i :${port.port}\` names it) or set ${port.variable} to a free port.` +
        (port.variable === 'TEMPORAL_DEV_PORT'
          ? ` To use the Temporal server already on it, set TEMPORAL_ADDRESS=127.0.0.1:${port.port}.`
          : ''),
    );
    this.name = 'PortInUseError';
  }
}

/**
 * Refuses to go on while any of our ports is taken, before anything starts: the dev server would
 * only log `bind: address already in use`, and a client connecting to that port reaches whoever
 * holds it. Binding (not connecting) also catches a listener on 0.0.0.0 or [::] that owns the port.
 */
export async function assertPortsFree(ports: NamedPort[]): Promise<void> {
  for (const named of ports) {
    if (!(await isPortFree(named.port))) throw new PortInUseError(named);
  }
}

/** Whether we could listen on the port on 127.0.0.1 right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
