import { useSyncExternalStore } from 'react';

/**
 * critical / high: a new (or re-alerting) alert of that priority; escalation: an alert went up a level
 * or came back after an acknowledgement timeout; repeat: a medium or low alert raised again; reminder:
 * a medium alert still waiting; connection: the board lost its link (it can no longer hear new alerts);
 * code: a hospital code (Code Blue, Fire…) was called, on every board of the hospital.
 */
export type Chime = 'critical' | 'high' | 'escalation' | 'repeat' | 'reminder' | 'connection' | 'code';

interface SoundState {
  /** The browser allows audio only after a user gesture: false until "Enable sound" is pressed. */
  enabled: boolean;
  /** Snoozed until this time (ms since epoch); null when not muted. Mute never lasts for ever. */
  mutedUntil: number | null;
  /** Derived from mutedUntil, kept for screens that only need yes/no. */
  muted: boolean;
}

export const SNOOZE_MS = 5 * 60_000;
const MUTE_KEY = 'clarion.mutedUntil';

/** Chimes that play even while muted: a snooze can never silence a hospital code. */
const NEVER_MUTED: ReadonlySet<Chime> = new Set<Chime>(['code']);

let ctx: AudioContext | null = null;
let expiry: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();

function readMutedUntil(): number | null {
  const until = Number(localStorage.getItem(MUTE_KEY) ?? '0');
  return until > Date.now() ? until : null;
}
let state: SoundState = { enabled: false, mutedUntil: readMutedUntil(), muted: false };
state.muted = state.mutedUntil !== null;

const emit = (next: Partial<SoundState>) => {
  state = { ...state, ...next };
  state.muted = state.mutedUntil !== null;
  for (const l of listeners) l();
};

/** Ends the snooze by itself when its time is up (a muted wall screen must start calling again). */
function armExpiry() {
  clearTimeout(expiry);
  if (state.mutedUntil === null) return;
  expiry = setTimeout(() => sound.unmute(), Math.max(0, state.mutedUntil - Date.now()));
}
armExpiry();

type Note = { freq: number; at: number; dur: number; type: OscillatorType };
// Distinct patterns, so a nurse knows what happened without looking: critical is an urgent rising
// triple, high a two-tone, an escalation a descending triple, a repeat a soft double beep, a reminder
// one soft beep, and a lost connection a low falling buzz unlike any alert.
const patterns: Record<Chime, Note[]> = {
  critical: [
    { freq: 880, at: 0, dur: 0.14, type: 'square' },
    { freq: 1175, at: 0.18, dur: 0.14, type: 'square' },
    { freq: 1568, at: 0.36, dur: 0.3, type: 'square' },
  ],
  high: [
    { freq: 784, at: 0, dur: 0.25, type: 'sine' },
    { freq: 659, at: 0.3, dur: 0.4, type: 'sine' },
  ],
  escalation: [
    { freq: 1319, at: 0, dur: 0.16, type: 'triangle' },
    { freq: 988, at: 0.2, dur: 0.16, type: 'triangle' },
    { freq: 740, at: 0.4, dur: 0.3, type: 'triangle' },
  ],
  repeat: [
    { freq: 660, at: 0, dur: 0.15, type: 'sine' },
    { freq: 660, at: 0.25, dur: 0.15, type: 'sine' },
  ],
  reminder: [{ freq: 587, at: 0, dur: 0.3, type: 'sine' }],
  connection: [
    { freq: 330, at: 0, dur: 0.35, type: 'sawtooth' },
    { freq: 220, at: 0.4, dur: 0.6, type: 'sawtooth' },
  ],
  // A code: a two-tone siren, high–low four times, longer and louder in character than any alert.
  code: [0, 1, 2, 3].flatMap((i) => [
    { freq: 1047, at: i * 0.5, dur: 0.22, type: 'square' as const },
    { freq: 698, at: i * 0.5 + 0.25, dur: 0.22, type: 'square' as const },
  ]),
};

// Counted on the document (data-chimes, data-last-chime) and kept as a short log on window, so a
// browser test can count what was actually played, and when.
let plays = 0;
const log: { chime: Chime; at: number; again: boolean }[] = [];
(window as unknown as { clarionChimes: typeof log }).clarionChimes = log;

export const sound = {
  get: () => state,
  subscribe(l: () => void) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  async enable() {
    ctx ??= new AudioContext();
    await ctx.resume();
    emit({ enabled: ctx.state === 'running' });
  },
  /** Mute for `ms` (a snooze with a visible end), never indefinitely. */
  snooze(ms = SNOOZE_MS) {
    const until = Date.now() + ms;
    localStorage.setItem(MUTE_KEY, String(until));
    emit({ mutedUntil: until });
    armExpiry();
  },
  unmute() {
    localStorage.removeItem(MUTE_KEY);
    emit({ mutedUntil: null });
    armExpiry();
  },
  /** Older callers: true snoozes for the default time. */
  setMuted(muted: boolean) {
    if (muted) sound.snooze();
    else sound.unmute();
  },
  /**
   * True when the chime was played (sound enabled, and not muted unless the chime is never muted).
   * `again` marks a re-alert (an alert still waiting), so the log tells them from first calls.
   */
  play(chime: Chime, again = false): boolean {
    if (ctx?.state !== 'running' || !ctx) return false;
    if (state.mutedUntil !== null && !NEVER_MUTED.has(chime)) return false;
    const t0 = ctx.currentTime + 0.02;
    for (const p of patterns[chime]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = p.type;
      osc.frequency.value = p.freq;
      gain.gain.setValueAtTime(0.0001, t0 + p.at);
      gain.gain.exponentialRampToValueAtTime(0.3, t0 + p.at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + p.at + p.dur);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + p.at);
      osc.stop(t0 + p.at + p.dur + 0.05);
    }
    plays += 1;
    log.push({ chime, at: Date.now(), again });
    if (log.length > 200) log.shift();
    document.documentElement.dataset.chimes = String(plays);
    document.documentElement.dataset.lastChime = chime;
    return true;
  },
};

export function useSound(): SoundState {
  return useSyncExternalStore(sound.subscribe, sound.get);
}
