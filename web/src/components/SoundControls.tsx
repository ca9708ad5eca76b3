import { sound, useSound } from '../lib/sound.js';

/** "Enable sound" (browsers need a gesture before audio) and a visible mute toggle. */
export function SoundControls() {
  const { enabled, muted } = useSound();
  return (
    <span className="sound-controls">
      {!enabled ? (
        <button type="button" className="enable-sound" onClick={() => void sound.enable()}>
          Enable sound
        </button>
      ) : null}
      <button type="button" aria-pressed={muted} onClick={() => sound.setMuted(!muted)}>
        {muted ? 'Unmute' : 'Mute'}
      </button>
    </span>
  );
}
