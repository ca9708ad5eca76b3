import { useEffect, useRef } from 'react';

/** Opens a native <dialog> as a modal while mounted (focus trapped, Escape cancels) and returns focus after. */
export function useModal() {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement as HTMLElement | null;
    dialog?.showModal();
    return () => {
      dialog?.close();
      opener?.focus?.();
    };
  }, []);
  return ref;
}
