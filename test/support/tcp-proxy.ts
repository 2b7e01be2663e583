import { Server, Socket, connect, createServer } from 'node:net';

/**
 * A TCP proxy in front of a service, to cut every connection through it at once (a network
 * drop, as a client sees one) and to refuse new ones until it is opened again.
 */
export interface TcpProxy {
  url: string;
  cut(): void;
  reopen(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port, protocol } = new URL(target);
  const sockets = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const cut = () => [...sockets].forEach((socket) => socket.destroy());
  return {
    url: `${protocol}//127.0.0.1:${address.port}`,
    cut: () => {
      refusing = true;
      cut();
    },
    reopen: () => {
      refusing = false;
    },
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
