import { useSyncExternalStore } from 'react';

type Chime = 'critical' | 'high' | 'escalation' | 'repeat';

interface SoundState {
  /** The browser allows audio only after a user gesture: false until "Enable sound" is pressed. */
  enabled: boolean;
  muted: boolean;
}

const MUTE_KEY = 'clarion.muted';
let ctx: AudioContext | null = null;
let state: SoundState = { enabled: false, muted: localStorage.getItem(MUTE_KEY) === '1' };
const listeners = new Set<() => void>();
const emit = (next: Partial<SoundState>) => {
  state = { ...state, ...next };
  for (const l of listeners) l();
};

// Distinct patterns, so a nurse knows the priority without looking: critical is an urgent rising
// triple, high a two-tone, an escalation a descending triple, a repeat of a medium or low alert a soft
// double beep.
const patterns: Record<Chime, { freq: number; at: number; dur: number; type: OscillatorType }[]> = {
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
};

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
  setMuted(muted: boolean) {
    localStorage.setItem(MUTE_KEY, muted ? '1' : '0');
    emit({ muted });
  },
  play(chime: Chime) {
    if (!ctx || state.muted || ctx.state !== 'running') return;
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
    document.documentElement.dataset.chimes = String(plays);
  },
};
// Counted on the document so a browser test can see that a chime was played.
let plays = 0;

export function useSound(): SoundState {
  return useSyncExternalStore(sound.subscribe, sound.get);
}
