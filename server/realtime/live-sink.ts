import type WebSocket from 'ws';
import { nextWakeUp, SOCKET_BUFFER_LIMIT } from './backpressure.js';
import { type EncodedEvent, framePrefix } from './frames.js';
import { QueueOverflowError } from './queue.js';

export interface LiveSinkOptions {
  socket: WebSocket;
  /** Events already sent (the replay, or the hand-off frame): anything at or below is skipped. */
  cursor: number;
  /** At most this many events wait for a slow socket; beyond, the subscription ends and the client replays. */
  queueLimit: number;
  /** A socket whose buffer stays over the bound this long is stalled: it is disconnected. */
  drainTimeoutMs: number;
  onStall: () => void;
}

type State = 'unbound' | 'draining' | 'live' | 'ended';

/**
 * The live path of one WebSocket subscription once its replay is done: the hub hands it encoded
 * events and it writes `prefix + shared tail` straight to the socket, in id order, skipping what was
 * already sent. Until tRPC's encoder has told it the subscription id (`bind`) events wait in order;
 * while the socket's send buffer is over the bound they wait too, bounded in count and in time.
 * `done` settles when the sink ends: resolved when the client went away, rejected with the reason
 * when the subscription must end (overflow, a stalled socket, the hub ending it).
 */
export class LiveSink {
  private prefix: Buffer | undefined;
  private pending: EncodedEvent[] = [];
  private state: State = 'unbound';
  private draining = false;
  private cursor: number;
  private settle!: { resolve: () => void; reject: (err: unknown) => void };
  readonly done: Promise<void>;

  constructor(private readonly opts: LiveSinkOptions) {
    this.cursor = opts.cursor;
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A rejection nobody awaits yet (the generator may still be yielding the hand-off) is not unhandled.
    this.done.catch(() => undefined);
  }

  /** tRPC sent the hand-off frame under this subscription id: flush what waited, then go live. */
  bind(id: string | number, jsonrpc: string | undefined): void {
    if (this.state !== 'unbound') return;
    this.prefix = framePrefix(id, jsonrpc);
    this.state = 'draining';
    // The encoder calls this just before tRPC writes the hand-off frame; what waited goes after it.
    queueMicrotask(() => this.flush());
  }

  offer(event: EncodedEvent): void {
    if (this.state === 'ended' || event.id <= this.cursor) return;
    if (this.state === 'live' && this.pending.length === 0 && this.writable()) {
      this.write(event);
      return;
    }
    if (this.pending.length >= this.opts.queueLimit) {
      this.end(new QueueOverflowError(this.opts.queueLimit));
      return;
    }
    this.pending.push(event);
    if (this.state === 'live') this.flush();
  }

  /** The client went away (or the subscription was stopped): a quiet end. */
  close(): void {
    this.finish();
    this.settle.resolve();
  }

  end(err: unknown): void {
    if (this.state === 'ended') return;
    this.finish();
    this.settle.reject(err);
  }

  private finish(): void {
    this.state = 'ended';
    this.pending = [];
  }

  private get ended(): boolean {
    return this.state === 'ended';
  }

  private writable(): boolean {
    return this.opts.socket.bufferedAmount <= SOCKET_BUFFER_LIMIT;
  }

  private write(event: EncodedEvent): void {
    this.cursor = event.id;
    this.opts.socket.send(Buffer.concat([this.prefix as Buffer, event.bytes]), { binary: false });
  }

  /** Writes what waits while the buffer allows; waits for drain otherwise, up to the stall timeout. */
  private async flush(): Promise<void> {
    if (this.draining || this.state === 'ended' || this.state === 'unbound') return;
    this.draining = true;
    const socket = this.opts.socket;
    let since: number | undefined;
    try {
      for (;;) {
        if (this.ended) return;
        if (socket.readyState !== socket.OPEN) return this.close();
        while (this.pending.length && this.writable()) {
          const next = this.pending.shift() as EncodedEvent;
          if (next.id > this.cursor) this.write(next);
          since = undefined;
        }
        if (!this.pending.length) {
          this.state = 'live';
          return;
        }
        since ??= Date.now();
        if (Date.now() - since >= this.opts.drainTimeoutMs) {
          this.opts.onStall();
          return this.close();
        }
        await nextWakeUp(socket);
      }
    } finally {
      this.draining = false;
    }
  }
}
