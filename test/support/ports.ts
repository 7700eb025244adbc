import { createServer } from 'node:net';

/** A 127.0.0.1 port nothing listens on right now (for a dead endpoint, or a server to start on later). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
