import type { EventEmitter } from 'node:events';
import type WebSocket from 'ws';

/** ~100 fat events of backlog per socket; shared by a socket's replay and live sends. */
export const SOCKET_BUFFER_LIMIT = 256 * 1024;
// Waiters wake on the TCP socket's 'drain'; this is only the fallback for the timeout and cancellation checks.
const RECHECK_MS = 50;

export type DrainResult = 'ok' | 'cancelled' | 'stalled';

// One pending wake-up per socket, however many of its subscriptions wait: one listener, one timer.
const wakeUps = new WeakMap<WebSocket, Promise<void>>();

export function nextWakeUp(socket: WebSocket): Promise<void> {
  let pending = wakeUps.get(socket);
  if (!pending) {
    pending = new Promise<void>((resolve) => {
      // ws writes unbuffered to its net.Socket (no compression), so bufferedAmount is that socket's backlog.
      const tcp = (socket as unknown as { _socket?: EventEmitter })._socket;
      const done = () => {
        clearTimeout(timer);
        tcp?.off('drain', done);
        wakeUps.delete(socket);
        resolve();
      };
      const timer = setTimeout(done, RECHECK_MS);
      tcp?.once('drain', done);
    });
    wakeUps.set(socket, pending);
  }
  return pending;
}

/**
 * Waits until the socket's send buffer is under the bound before the next frame is written: replay
 * and live sends alike, so no subscription can queue more than the bound in this process however fast
 * it produces. `stalled` when the buffer did not go under the bound within `timeoutMs` (a client that
 * stopped reading); `cancelled` when `cancelled()` turned true or the socket closed meanwhile.
 * Without a socket (an HTTP stream, whose writer waits for drain itself) it returns at once.
 */
export async function awaitDrain(socket: WebSocket | undefined, timeoutMs: number, cancelled: () => boolean): Promise<DrainResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (cancelled() || (socket && socket.readyState !== socket.OPEN)) return 'cancelled';
    if (!socket || socket.bufferedAmount <= SOCKET_BUFFER_LIMIT) return 'ok';
    if (Date.now() >= deadline) return 'stalled';
    await nextWakeUp(socket);
  }
}
