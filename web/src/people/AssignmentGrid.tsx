import { useId } from 'react';

/** A column of the grid: a nurse (or a doctor already on the list). */
export interface Person {
  id: string;
  name: string;
  /** false for someone known not to be a nurse: the charge entry must be a nurse. */
  canCharge: boolean;
}

interface GridProps {
  rooms: string[];
  people: Person[];
  /** Who has the room now (in the draft), if anyone. */
  ownerOf: (room: string) => string | undefined;
  charge: string | null;
  onRoom: (room: string, userId: string) => void;
  onCharge: (userId: string) => void;
  /** Messages about one person's entry, by user id. */
  errors: Record<string, string>;
  chargeError?: string;
}

/**
 * Rooms × people, one tap per room: each cell is a toggle button (aria-pressed). Tapping another
 * person's cell moves the room, tapping the pressed one frees it. A room nobody has is marked
 * "Unassigned" in words, not only in colour, so the gap is seen before Save. The grid scrolls inside
 * its own box with the room column and the names row sticky, so a phone never loses its bearings.
 */
export function AssignmentGrid({ rooms, people, ownerOf, charge, onRoom, onCharge, errors, chargeError }: GridProps) {
  const group = useId();
  const count = (id: string) => rooms.filter((r) => ownerOf(r) === id).length;
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1)
    <section className="assign-scroll" aria-label="Rooms and nurses" tabIndex={0}>
      <table className="assign-grid">
        <caption className="sr-only">Who looks after which room. One button per room and person: pressed means the room is theirs.</caption>
        <thead>
          <tr>
            <th scope="col" className="assign-room">
              Room
            </th>
            {people.map((p) => (
              <th scope="col" key={p.id} className={errors[p.id] ? 'assign-person assign-person-error' : 'assign-person'}>
                <span className="assign-name">{p.name}</span>
                <span className="assign-count">{count(p.id) === 1 ? '1 room' : `${count(p.id)} rooms`}</span>
                {errors[p.id] ? (
                  <span className="field-message" role="alert">
                    {errors[p.id]}
                  </span>
                ) : null}
              </th>
            ))}
          </tr>
          <tr className="assign-charge-row">
            <th scope="row" className={chargeError ? 'assign-room assign-person-error' : 'assign-room'}>
              Charge nurse
              {chargeError ? (
                <span className="field-message" role="alert">
                  {chargeError}
                </span>
              ) : null}
            </th>
            {people.map((p) => (
              <td key={p.id} className="assign-charge">
                {p.canCharge ? (
                  <label className="assign-charge-pick">
                    <input type="radio" name={group} checked={charge === p.id} onChange={() => onCharge(p.id)} aria-label={`Charge nurse: ${p.name}`} />
                    <span aria-hidden="true">{charge === p.id ? 'Charge' : ''}</span>
                  </label>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            ))}
          </tr>
        </thead>
        <tbody>
          {rooms.map((room) => {
            const owner = ownerOf(room);
            return (
              <tr key={room} className={owner ? undefined : 'assign-unassigned'}>
                <th scope="row" className="assign-room">
                  {room}
                  {owner ? null : <span className="assign-gap">Unassigned</span>}
                </th>
                {people.map((p) => (
                  <td key={p.id}>
                    <button type="button" className="assign-cell" aria-pressed={owner === p.id} aria-label={`Room ${room}: ${p.name}`} onClick={() => onRoom(room, p.id)}>
                      <span aria-hidden="true">{owner === p.id ? '✓' : ''}</span>
                    </button>
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

interface ListProps {
  rooms: string[];
  entries: { userId: string; userName: string; rooms: string[]; charge: boolean }[];
}

/** The read-only view: each person with their rooms, the charge nurse named, the free rooms last. */
export function AssignmentList({ rooms, entries }: ListProps) {
  const held = new Set(entries.flatMap((e) => e.rooms.map((r) => r.toLowerCase())));
  const free = rooms.filter((r) => !held.has(r.toLowerCase()));
  return (
    <div className="table-scroll">
      <table className="data assign-list">
        <caption className="sr-only">Current assignments</caption>
        <thead>
          <tr>
            <th scope="col">Nurse</th>
            <th scope="col">Rooms</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.userId}>
              <th scope="row">
                {e.userName}
                {e.charge ? <span className="assign-badge">Charge nurse</span> : null}
              </th>
              <td>{e.rooms.length ? e.rooms.join(', ') : <span className="muted">No rooms</span>}</td>
            </tr>
          ))}
          {free.length ? (
            <tr className="assign-unassigned">
              <th scope="row">
                <span className="assign-gap">Unassigned</span>
              </th>
              <td>{free.join(', ')}</td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
