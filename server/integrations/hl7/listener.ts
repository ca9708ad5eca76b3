import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { AlertDeps } from '../../alerts/change.js';
import { buildAck, Hl7ParseError, parseHl7 } from './message.js';
import { frame, MllpDecoder } from './mllp.js';
import { handleHl7Message } from './service.js';

/** Messages of one connection waiting for their ACK before we stop reading it. */
const MAX_PIPELINED = 16;

export interface Hl7ListenerOptions {
  port: number;
  host: string;
  /** Largest message accepted; a bigger frame is answered AR and the connection closed. */
  maxMessageBytes?: number;
  /** A socket that sends nothing this long is closed (slowloris, a dead peer). */
  idleTimeoutMs?: number;
  maxConnections?: number;
}

export interface Hl7Listener {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * The MLLP listener for monitor gateways and nurse call. Per connection: a bounded decoder, an idle
 * timeout, messages handled one after the other so ACKs go back in order. A handler failure answers
 * AE; nothing a peer sends can throw out of here.
 */
export async function startHl7Listener(deps: AlertDeps, opts: Hl7ListenerOptions): Promise<Hl7Listener> {
  const maxBytes = opts.maxMessageBytes ?? 1024 * 1024;
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  const log: Logger = deps.log.child({ component: 'hl7' });
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    const ip = socket.remoteAddress ?? null;
    const decoder = new MllpDecoder(maxBytes);
    let queue = Promise.resolve();
    let pending = 0;
    let oversize = false;
    socket.setTimeout(idleMs, () => socket.destroy());
    socket.on('error', (err) => log.debug({ err, ip }, 'hl7: socket error'));
    socket.on('close', () => sockets.delete(socket));
    const reply = (ack: string) => {
      if (socket.writable) socket.write(frame(ack));
    };
    socket.on('data', (chunk: Buffer) => {
      for (const ev of decoder.push(chunk)) {
        if (ev.kind === 'oversize') {
          oversize = true;
          socket.pause();
          queue = queue.then(() => {
            reply(buildAck(tryHeader(ev.head.toString('utf8')), 'AR', { code: 100, text: `Message over ${maxBytes} bytes` }));
            socket.end();
          });
          log.warn({ ip, maxBytes }, 'hl7: oversize message refused, connection closed');
          return;
        }
        const text = ev.payload.toString('utf8');
        // A peer that pipelines faster than we store stops being read (TCP backpressure), not buffered.
        if (++pending >= MAX_PIPELINED) socket.pause();
        queue = queue.then(async () => {
          const ack = await handleHl7Message(deps, text, ip).catch((err: unknown) => {
            log.error({ err, ip }, 'hl7: message handling failed');
            return buildAck(tryHeader(text), 'AE', { code: 207, text: 'Internal error; send it again' });
          });
          reply(ack);
          if (--pending < MAX_PIPELINED && !oversize) socket.resume();
        });
      }
    });
  });
  server.maxConnections = opts.maxConnections ?? 100;
  server.on('drop', () => log.warn({ max: server.maxConnections }, 'hl7: connection refused, too many open'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  log.info({ port, host: opts.host }, 'hl7: MLLP listener up');
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Peers hold connections open for days; end them (they reconnect to another instance).
        for (const s of sockets) s.end();
        setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 2_000).unref();
      }),
  };
}

/** The MSH of a message we will not handle, so its ACK can still name MSH-10; null if even that fails. */
function tryHeader(text: string) {
  try {
    const msh = text.split(/\r|\n/)[0] ?? '';
    return parseHl7(msh);
  } catch (err) {
    if (err instanceof Hl7ParseError) return null;
    throw err;
  }
}
