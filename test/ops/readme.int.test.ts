import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 13, "Also found when tried as a new user would": the README is the first thing a newcomer and
// every integrator reads; its links must resolve inside the repository and its example must be correct.

const root = new URL('../..', import.meta.url).pathname;
const readme = readFileSync(`${root}README.md`, 'utf8');

/** Relative Markdown links of a file, resolved against its folder (anchors and URLs skipped). */
function localLinks(file: string): { link: string; path: string }[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] as string)
    .filter((l) => !/^[a-z]+:|^#/.test(l))
    .map((link) => ({ link, path: join(root, dirname(file), link.split('#')[0] as string) }));
}

describe('README', () => {
  it('links only to files that are in the repository (the architecture is docs/architecture.md)', () => {
    for (const file of ['README.md', 'docs/operations.md', 'docs/architecture.md']) {
      expect(existsSync(join(root, file)), file).toBe(true);
      const broken = localLinks(file).filter((l) => !existsSync(l.path)).map((l) => l.link);
      expect(broken, `${file} links to missing files`).toEqual([]);
    }
    expect(readme).toContain('(docs/architecture.md)');
  });

  it("the subscription example takes the board and lastEventId from one getActive snapshot", () => {
    const example = readme.split('**Subscribing.**')[1]?.split('```ts')[1]?.split('```')[0] ?? '';
    expect(example).toContain('alerts.onEvent.subscribe');
    expect(example.match(/alerts\.getActive\.query\(/g)).toHaveLength(1);
    expect(example).toMatch(/const \{ alerts, lastEventId \} = await client\.alerts\.getActive\.query\(\)/);
  });
});

describe('docs/architecture.md', () => {
  it('covers the processes, layers, data model, event path, guarantees, visibility and Redis outages', () => {
    const arch = existsSync(`${root}docs/architecture.md`) ? readFileSync(`${root}docs/architecture.md`, 'utf8') : '';
    for (const heading of ['## Processes', '## Layers and folders', '## Data model', '## The event path', '## Delivery and escalation guarantees', '## Who sees what', '## When Redis is down', '## What the event id reveals']) {
      expect(arch, heading).toContain(heading);
    }
    // It names real files: every `path/like.ts` it mentions exists.
    const paths = [...arch.matchAll(/`((?:server|worker|web|scripts|test|migrations)\/[\w./-]+\.(?:ts|tsx|sql|mjs))`/g)].map((m) => m[1] as string);
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((p) => !existsSync(join(root, p)))).toEqual([]);
  });
});
