import { useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AlertEvent } from '../../../server/alerts/schemas.js';
import { CodeBanner, respond } from '../components/CodeBanner.js';
import { StaleBanner } from '../components/ConnectionStatus.js';
import type { Alert } from '../lib/alertStore.js';
import { useTRPC } from '../lib/api.js';
import type { SessionUser } from '../lib/session.js';
import { sound } from '../lib/sound.js';
import { useAlertFeed } from '../lib/useAlertFeed.js';
import { useConnection } from '../lib/useConnection.js';
import { useNow } from '../lib/useNow.js';
import { AlertDetail } from './AlertDetail.js';
import { AlertTile } from './AlertTile.js';
import { useAnnouncer } from './Announcer.js';
import { BoardHeader } from './BoardHeader.js';
import { MoreTile } from './MoreTile.js';
import { QuietStrip } from './QuietStrip.js';
import { ShelvedRow } from './ShelvedRow.js';
import { ShortcutHelp, useShortcuts } from './Shortcuts.js';
import { type AlertAction, useAlertAction } from './useAlertAction.js';
import { useFit } from './useFit.js';
import { usePrefs } from './usePrefs.js';
import { useReAlert } from './useReAlert.js';
import { useReceipts } from './useReceipts.js';
import { unshelve as unshelveNow, useShelve } from './useShelve.js';
import { useUndoableAck } from './useUndoableAck.js';
import { boardOrder } from './urgency.js';

export const RESPONDER_ROLES: ReadonlySet<string> = new Set(['nurse', 'doctor', 'head_doctor', 'admin']);
const DECLINER_ROLES: ReadonlySet<string> = new Set(['nurse', 'doctor']);
const everyAlert = () => true;
/** A wall left on a later page goes back to the first (the most urgent) after this long untouched. */
const PAGE_RETURN_MS = 30_000;

/**
 * The sound of an event: a new critical or high alert chimes its priority's pattern (the rest arrive
 * silently, and are called again by useReAlert if they keep waiting); a repeat always chimes (someone is
 * calling again); an escalation or an alert back after an acknowledgement timeout has its own falling
 * pattern; an alert back from the shelf calls as it did when new. A hospital code has its own chime
 * (played on every board, muted or not: see codeChime). Returns whether the event called for this alert.
 */
function chimeFor(event: AlertEvent): boolean {
  const p = event.alert.priority;
  if (event.alert.code) return event.type === 'created';
  // A repeat folded into a shelved alert is counted on its row, not sounded: that is what shelving is for.
  if (event.alert.status === 'shelved') return false;
  if (event.type === 'unshelved') {
    sound.play(p === 'critical' || p === 'high' ? p : 'reminder');
    return true;
  }
  if (event.type === 'created' || event.type === 'repeated') {
    if (p === 'critical' || p === 'high') sound.play(p);
    else if (event.type === 'repeated') sound.play('repeat');
    return true;
  }
  if (event.type === 'escalated' || event.type === 'reopened') {
    sound.play('escalation');
    return true;
  }
  return false;
}

/** The ward board: a wall screen of open alerts, live, in the order they need attention, that keeps calling. */
export function Board({ user }: { user: SessionUser }) {
  const [prefs, setPrefs] = usePrefs();
  const wholeHospital = user.role !== 'nurse' && user.role !== 'doctor';
  const department = wholeHospital ? prefs.department : '';
  const passes = useCallback((a: Alert) => !department || a.departmentCode === department, [department]);
  const passesRef = useRef(passes);
  passesRef.current = passes;
  const receipts = useReceipts(everyAlert);
  const announcer = useAnnouncer();
  const calledRef = useRef<(id: string) => void>(() => undefined);
  const [quietRevision, bumpQuiet] = useState(0);
  const feed = useAlertFeed({
    onEvent: (e) => {
      receipts.onEvent(e);
      if (e.type === 'suppressed') bumpQuiet((n) => n + 1);
      // A code sounds on every board of the hospital, whatever department this one is filtered to.
      if (e.type === 'created' && e.alert.code) {
        sound.play('code');
        announcer.announce(e.alert, 'Hospital code:');
      }
      if (!passesRef.current(e.alert)) return;
      if (chimeFor(e)) calledRef.current(e.alert.id);
      if (e.type === 'created' && !e.alert.code) announcer.announce(e.alert);
      else if (e.type === 'reopened') announcer.announce(e.alert, 'Back on the board:');
      else if (e.type === 'unshelved') announcer.announce(e.alert, 'Back from the shelf:');
    },
    onSnapshot: receipts.onSnapshot,
  });
  const conn = useConnection();
  const now = useNow();
  const action = useAlertAction();
  const shelve = useShelve();
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is what changes when the store does
  const all = useMemo(() => feed.store.sortedByPriority(), [feed.revision]);
  const shown = useMemo(() => all.filter(passes), [all, passes]);
  // Shelved alerts have their own row under the tiles; open codes their banner on top (hospital-wide).
  const onTiles = useMemo(() => shown.filter((a) => a.status !== 'shelved'), [shown]);
  const shelved = useMemo(() => shown.filter((a) => a.status === 'shelved'), [shown]);
  const codes = useMemo(() => all.filter((a) => a.code !== null), [all]);
  const ordered = useMemo(() => boardOrder(onTiles, now), [onTiles, now]);
  const acks = useUndoableAck(all);
  const quiet = useMemo(() => new Set(acks.pending.keys()), [acks.pending]);
  calledRef.current = useReAlert(shown, quiet, conn.status === 'lost').called;

  const [area, setArea] = useState<HTMLElement | null>(null);
  const fit = useFit(area, prefs.compact);
  const [page, setPage] = useState(0);
  const paged = fit.wall && ordered.length > fit.capacity;
  const perPage = paged ? Math.max(1, fit.capacity - 1) : ordered.length;
  const pages = paged ? Math.ceil(ordered.length / perPage) : 1;
  const current = Math.min(page, pages - 1);
  const visible = paged ? ordered.slice(current * perPage, (current + 1) * perPage) : ordered;
  const hidden = paged ? ordered.filter((a) => !visible.includes(a)) : [];
  useEffect(() => {
    if (current === 0) return;
    const t = setTimeout(() => setPage(0), PAGE_RETURN_MS);
    return () => clearTimeout(t);
  }, [current]);

  const [openId, setOpenId] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const opened = openId ? shown.find((a) => a.id === openId) : undefined;
  // An action from the detail view closes it first: the tile (its Undo) or the confirm dialog takes over.
  const fromDetail = (run: () => void) => () => {
    setOpenId(null);
    run();
  };

  const onAction = (a: AlertAction, alert: Alert) => (a === 'acknowledge' ? acks.acknowledge(alert) : action.ask(a, alert));
  const canRespond = RESPONDER_ROLES.has(user.role);
  const canDecline = DECLINER_ROLES.has(user.role);

  const fullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void document.documentElement.requestFullscreen?.().catch(() => undefined);
  };
  const tiles = () => [...(area?.querySelectorAll<HTMLElement>('article[data-alert-id]') ?? [])];
  const focused = () => {
    const id = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('article[data-alert-id]')?.dataset.alertId;
    return id ? shown.find((a) => a.id === id) : undefined;
  };
  const move = (by: number) => {
    const list = tiles();
    const at = list.findIndex((el) => el.contains(document.activeElement));
    list[Math.max(0, Math.min(list.length - 1, at === -1 ? 0 : at + by))]?.focus();
  };
  const onFocused = (run: (a: Alert) => void) => () => {
    const a = focused();
    if (a) run(a);
    else move(0);
  };
  useShortcuts({
    '?': () => setHelp(true),
    j: () => move(1),
    k: () => move(-1),
    a: onFocused((a) => canRespond && a.status === 'active' && acks.acknowledge(a)),
    u: () => acks.undo(),
    d: onFocused((a) => canRespond && canDecline && a.status === 'active' && action.ask('decline', a)),
    r: onFocused((a) => canRespond && action.ask('resolve', a)),
    m: () => (sound.get().muted ? sound.unmute() : sound.snooze()),
    n: () => setPage((p) => Math.min(p + 1, pages - 1)),
    p: () => setPage((p) => Math.max(p - 1, 0)),
    c: () => setPrefs({ compact: !prefs.compact }),
    l: () => setPrefs({ theme: prefs.theme === 'light' ? 'dark' : 'light' }),
    f: fullscreen,
  });

  // Every active department of the hospital (a quiet one too), plus any an open alert names.
  const trpc = useTRPC();
  const known = useQuery({ ...trpc.hospitals.getDepartments.queryOptions(), enabled: wholeHospital, staleTime: 5 * 60_000 });
  const departments = useMemo(() => {
    if (!wholeHospital) return null;
    const byCode = new Map((known.data ?? []).filter((d) => d.isActive).map((d) => [d.code, d.name]));
    for (const a of all) byCode.set(a.departmentCode, a.departmentName);
    if (department && !byCode.has(department)) byCode.set(department, department);
    return [...byCode].map(([code, name]) => ({ code, name })).sort((a, b) => a.name.localeCompare(b.name));
  }, [all, wholeHospital, department, known.data]);

  const scope = wholeHospital ? (department ? (departments?.find((d) => d.code === department)?.name ?? department) : 'All departments') : (user.departmentName ?? 'Department');
  const waiting = onTiles.filter((a) => a.status === 'active').length;
  const onResponding = (a: Alert) => void respond(a.id);
  const selected = wholeHospital && department ? { code: department, name: scope } : null;
  const classes = ['board', `board-${prefs.theme}`];
  if (conn.status === 'lost') classes.push('stale');
  if (prefs.compact) classes.push('board-compact');
  if (fit.wall) classes.push('board-wall');

  return (
    <main className={classes.join(' ')}>
      <BoardHeader
        title={`${scope} board`}
        now={now}
        conn={conn}
        waiting={waiting}
        acknowledged={onTiles.length - waiting}
        showing={paged ? `showing ${visible.length} of ${ordered.length}` : null}
        prefs={prefs}
        setPrefs={setPrefs}
        departments={departments}
        onHelp={() => setHelp(true)}
        onFullscreen={fullscreen}
      />
      <CodeBanner codes={codes} user={user} />
      <StaleBanner info={conn} />
      {feed.error ? (
        <p role="alert" className="error">
          {feed.error}
        </p>
      ) : null}
      <section ref={setArea} className="tiles" aria-label="Open alerts" style={fit.wall ? { gridTemplateColumns: `repeat(${fit.columns}, minmax(0, 1fr))` } : undefined}>
        {feed.loaded && onTiles.length === 0 ? <p className="all-clear">{shelved.length ? `No alerts waiting (${shelved.length} shelved)` : 'No open alerts'}</p> : null}
        {visible.map((a) => (
          <AlertTile
            key={a.id}
            alert={a}
            now={now}
            canRespond={canRespond}
            canDecline={canDecline}
            note={feed.store.note(a.id)}
            tileRef={receipts.tileRef}
            onAction={onAction}
            pendingAck={acks.pending.get(a.id)}
            ackError={acks.errors.get(a.id)}
            onUndo={(x) => acks.undo(x.id)}
            onOpen={(x) => setOpenId(x.id)}
            onResponding={onResponding}
            userId={user.id}
          />
        ))}
        {paged ? (
          <MoreTile
            hidden={hidden}
            page={current}
            pages={pages}
            compact={prefs.compact}
            onPage={setPage}
            onCompact={() => setPrefs({ compact: true })}
          />
        ) : null}
      </section>
      <ShelvedRow alerts={shelved} now={now} canShelve={canRespond} onOpen={(x) => setOpenId(x.id)} />
      <QuietStrip revision={quietRevision} department={selected} />
      {opened ? (
        <AlertDetail
          alert={opened}
          now={now}
          onClose={() => setOpenId(null)}
          actions={
            canRespond ? (
              <>
                {opened.status === 'active' && !acks.pending.has(opened.id) ? (
                  <button type="button" className="primary" onClick={fromDetail(() => acks.acknowledge(opened))}>
                    Acknowledge
                  </button>
                ) : null}
                {opened.code && !opened.responders.some((r) => r.userId === user.id) ? (
                  <button type="button" className="primary" onClick={() => onResponding(opened)}>
                    Responding
                  </button>
                ) : null}
                {canDecline && opened.status === 'active' && !opened.code ? (
                  <button type="button" onClick={fromDetail(() => action.ask('decline', opened))}>
                    Decline
                  </button>
                ) : null}
                {(opened.status === 'active' || opened.status === 'acknowledged') && !opened.code ? (
                  <button type="button" onClick={fromDetail(() => shelve.ask(opened))}>
                    Shelve
                  </button>
                ) : null}
                {opened.status === 'shelved' ? (
                  <button type="button" onClick={fromDetail(() => void unshelveNow(opened.id))}>
                    Unshelve
                  </button>
                ) : null}
                <button type="button" onClick={fromDetail(() => action.ask('resolve', opened))}>
                  Resolve
                </button>
              </>
            ) : null
          }
        />
      ) : null}
      {help ? <ShortcutHelp onClose={() => setHelp(false)} /> : null}
      {action.dialog}
      {shelve.dialog}
      {announcer.regions}
    </main>
  );
}
