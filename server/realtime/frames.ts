import type { AlertEvent } from '../alerts/schemas.js';

/**
 * One event as the tail of tRPC's tracked-data frame, encoded once and shared by every socket that
 * receives it. A frame is `{"id":<subscription id>` (per subscription, see `framePrefix`) followed by
 * this tail; both halves come from JSON.stringify of the very object tRPC's WebSocket adapter sends
 * (`{ id, jsonrpc, result: { type: 'data', data: { id, data }, id } }`), so the bytes are the same.
 */
export class EncodedEvent {
  private tail: Buffer | undefined;

  constructor(readonly event: AlertEvent) {}

  get id(): number {
    return Number(this.event.id);
  }

  /** `,"result":{…}}` — built on first use, so an event nobody receives directly is never encoded. */
  get bytes(): Buffer {
    if (!this.tail) {
      const whole = JSON.stringify({ result: { type: 'data', data: { id: this.event.id, data: this.event }, id: this.event.id } });
      this.tail = Buffer.from(`,${whole.slice(1)}`);
    }
    return this.tail;
  }
}

/** `{"id":7` or `{"id":7,"jsonrpc":"2.0"` — the per-subscription head of every frame. */
export function framePrefix(id: string | number, jsonrpc: string | undefined): Buffer {
  const head = JSON.stringify(jsonrpc === undefined ? { id } : { id, jsonrpc });
  return Buffer.from(head.slice(0, -1));
}

/**
 * Yielded (tracked) as the first live event of a WebSocket subscription. tRPC sends it as an
 * ordinary frame (toJSON is the event); on the way out the encoder hands the subscription's id to
 * `bind`, which is how the hub learns which id to write its own frames under from then on.
 */
export class LiveHandoff {
  constructor(
    private readonly event: AlertEvent,
    private readonly onBind: (id: string | number, jsonrpc: string | undefined) => void,
  ) {}

  toJSON(): AlertEvent {
    return this.event;
  }

  bind(id: string | number, jsonrpc: string | undefined): void {
    this.onBind(id, jsonrpc);
  }
}

/** Called by the WebSocket encoder on every outgoing message: binds a hand-off frame's subscription. */
export function bindHandoff(message: unknown): void {
  const m = message as { id?: string | number | null; jsonrpc?: string; result?: { data?: { data?: unknown } } } | null;
  const payload = m?.result?.data?.data;
  if (payload instanceof LiveHandoff && m?.id != null) payload.bind(m.id, m.jsonrpc);
}
