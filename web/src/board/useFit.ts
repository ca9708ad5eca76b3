import { useEffect, useState } from 'react';

/** Below this width the board is a phone or a narrow window: it scrolls, one tile per row. */
export const WALL_MIN_WIDTH = 700;

// Tile sizes (px) the grid is laid out with; styles.css's board block uses the same numbers.
const SIZES = {
  normal: { minWidth: 400, height: 300 },
  compact: { minWidth: 300, height: 176 },
};
const GAP = 16;

export interface Fit {
  /** True on a wall or workstation: the board never scrolls, it pages. */
  wall: boolean;
  columns: number;
  /** How many tiles fit on one screen (0 when not a wall). */
  capacity: number;
}

/**
 * How many tiles fit on screen without scrolling: a wall screen cannot be scrolled, so the board shows
 * what fits and says how many more there are, instead of letting the 13th tile fall off the bottom.
 * Measured from the tile area, which fills the window below the header, again on every resize.
 */
export function useFit(area: HTMLElement | null, compact: boolean): Fit {
  const [fit, setFit] = useState<Fit>({ wall: false, columns: 1, capacity: 0 });
  useEffect(() => {
    if (!area) return;
    const measure = () => {
      const width = area.clientWidth;
      if (window.innerWidth < WALL_MIN_WIDTH) {
        setFit((f) => (f.wall ? { wall: false, columns: 1, capacity: 0 } : f));
        return;
      }
      const size = compact ? SIZES.compact : SIZES.normal;
      const style = getComputedStyle(area);
      const padX = Number.parseFloat(style.paddingLeft) + Number.parseFloat(style.paddingRight);
      const padY = Number.parseFloat(style.paddingTop) + Number.parseFloat(style.paddingBottom);
      // On a wall the tile area fills the window below the header (styles.css), so its height is what is left.
      const height = area.clientHeight - padY;
      const columns = Math.max(1, Math.floor((width - padX + GAP) / (size.minWidth + GAP)));
      const rows = Math.max(1, Math.floor((height + GAP) / (size.height + GAP)));
      setFit((f) => (f.wall && f.columns === columns && f.capacity === columns * rows ? f : { wall: true, columns, capacity: columns * rows }));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(area);
    window.addEventListener('resize', measure);
    return () => {
      ro.disconnect();
      window.removeEventListener('resize', measure);
    };
  }, [area, compact]);
  return fit;
}
