import type { Socket } from 'node:net';

/** How long a refused client may go on sending before its connection is dropped for good. */
const LINGER_MS = 2_000;

/**
 * Closes a connection after its answer without losing the answer.
 *
 * A refusal given before the request is read to its end (401 before the body, 408, 414) leaves
 * bytes the client is still sending. Closing the socket outright makes the kernel answer those
 * bytes with a reset instead of a FIN, and a client that writes again before it has read our
 * answer sees only the reset: the answer is lost. So, as web servers do ("lingering close"), the
 * answer is followed by a FIN, whatever still arrives is read and dropped, and the socket is
 * destroyed when the client closes its side or after LINGER_MS, whichever comes first. A client
 * that keeps dripping holds a socket for LINGER_MS, never a buffer.
 */
export function closeAfterLinger(socket: Socket, lingerMs = LINGER_MS): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  if (socket.writable) socket.end();
}

/**
 * For an answer sent with `Connection: close` through Node's http server: when the answer is
 * written, the server calls `destroySoon()` on the socket, which destroys it as soon as the FIN is
 * queued. This socket lingers instead. (The server goes on reading the request's body and
 * discards it, so the client's bytes are read, not left in the kernel.)
 */
export function lingerWhenClosed(socket: Socket | null, lingerMs = LINGER_MS): void {
  if (!socket) return;
  socket.destroySoon = () => closeAfterLinger(socket, lingerMs);
}
