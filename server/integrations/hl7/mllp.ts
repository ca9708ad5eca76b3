/**
 * MLLP framing (HL7 v2 over TCP): <VT 0x0B> message <FS 0x1C><CR 0x0D>. A per-connection decoder
 * with a bounded buffer: bytes outside a frame are dropped (garbage, a peer that lost sync), and a
 * frame that grows past `maxBytes` is reported once as oversize so the caller can answer AR and close.
 */
export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

export type FrameEvent = { kind: 'message'; payload: Buffer } | { kind: 'oversize'; head: Buffer };

export function frame(text: string): Buffer {
  return Buffer.concat([Buffer.from([VT]), Buffer.from(text, 'utf8'), Buffer.from([FS, CR])]);
}

export class MllpDecoder {
  private parts: Buffer[] = [];
  private size = 0;
  private inFrame = false;
  private overflowed = false;

  constructor(private readonly maxBytes: number) {}

  /** Feeds bytes; returns the complete frames (and at most one oversize report) they finish. */
  push(chunk: Buffer): FrameEvent[] {
    const out: FrameEvent[] = [];
    let i = 0;
    while (i < chunk.length && !this.overflowed) {
      if (!this.inFrame) {
        const start = chunk.indexOf(VT, i);
        if (start < 0) return out; // garbage between frames: dropped
        this.inFrame = true;
        i = start + 1;
        continue;
      }
      const end = chunk.indexOf(FS, i);
      const stop = end < 0 ? chunk.length : end;
      this.append(chunk.subarray(i, stop));
      if (this.size > this.maxBytes) {
        this.overflowed = true;
        out.push({ kind: 'oversize', head: Buffer.concat(this.parts).subarray(0, 4096) });
        this.parts = [];
        return out;
      }
      if (end < 0) return out;
      // FS must be followed by CR; a missing CR at the end of a chunk is tolerated (some senders omit it).
      i = chunk[end + 1] === CR ? end + 2 : end + 1;
      out.push({ kind: 'message', payload: Buffer.concat(this.parts) });
      this.parts = [];
      this.size = 0;
      this.inFrame = false;
    }
    return out;
  }

  private append(b: Buffer) {
    if (b.length === 0) return;
    // Copy: the socket's chunk may be reused, and keeping a slice would pin the whole chunk.
    this.parts.push(Buffer.from(b));
    this.size += b.length;
  }
}
