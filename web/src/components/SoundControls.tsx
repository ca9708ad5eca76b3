import { SNOOZE_MS, sound, useSound } from '../lib/sound.js';
import { useNow } from '../lib/useNow.js';

const minutes = Math.round(SNOOZE_MS / 60_000);

function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * The state of sound, always in words: "Sound off" (the browser needs a press on "Enable sound"
 * first), "Sound on", or "Muted 4:12" — a snooze that counts down and ends by itself (and survives a
 * reload). Mute appears only once there is sound to mute.
 */
export function SoundControls() {
  const { enabled, mutedUntil } = useSound();
  const now = useNow(mutedUntil ? 1_000 : 60_000);
  const text = mutedUntil ? `Muted ${countdown(mutedUntil - now)}` : !enabled ? 'Sound off' : 'Sound on';
  return (
    <span className={`sound-controls sound-${mutedUntil ? 'muted' : !enabled ? 'off' : 'on'}`}>
      {/* Not a live region: a countdown announced every second would drown out the alerts. */}
      <span className="sound-state">{text}</span>
      {!enabled ? (
        <button type="button" className="enable-sound" onClick={() => void sound.enable()}>
          Enable sound
        </button>
      ) : null}
      {mutedUntil ? (
        <button type="button" onClick={() => sound.unmute()}>
          Unmute
        </button>
      ) : enabled ? (
        <button type="button" onClick={() => sound.snooze()} title={`Silence for ${minutes} minutes; sound comes back by itself`}>
          Mute {minutes} min
        </button>
      ) : null}
    </span>
  );
}
