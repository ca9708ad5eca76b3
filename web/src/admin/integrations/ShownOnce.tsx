import { CopyField } from '../../components/CopyField.js';

/**
 * A secret the server answers once (an API key, a webhook's signing secret): Clarion keeps only a hash
 * or can derive it again, so this is the one moment to copy it into the other system.
 */
export function ShownOnce({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  return (
    <section className="card shown-once" aria-label={label}>
      <CopyField label={label} value={value} />
      <p className="notice">Shown once: store it in the integration's configuration now.</p>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </section>
  );
}
