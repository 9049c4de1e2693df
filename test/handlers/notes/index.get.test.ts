import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, projectRoot, type TestApp } from '../../support/app.ts';
import { createNote, failingFields, readJson } from '../../support/notes.ts';
import { type SignedIn, signUp } from '../../support/users.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ root: projectRoot });
});
afterAll(() => t.close());

type Page = { items: { id: string; title: string; tags: string[] }[]; nextCursor: string | null };

const list = async (user: SignedIn, query = '') => {
  const response = await t.request('GET', `/notes${query}`, { headers: user.headers });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await readJson(response)) as Page;
};

/**
 * Inserts notes with chosen creation times, so that a test can line up equal and near-equal timestamps. The time
 * goes as text: postgres.js would turn a timestamptz parameter into a Date and drop its microseconds.
 */
async function insertNotes(user: SignedIn, notes: { title: string; tags: string[]; at: string }[]) {
  for (const note of notes) {
    await t.sql`
      insert into notes (user_id, title, body, tags, created_at, updated_at)
      values (${user.id}, ${note.title}, '', ${note.tags}::text[], ${note.at}::text::timestamptz, ${note.at}::text::timestamptz)`;
  }
}

/** The ids of a user's notes, in the order the listing promises: newest first, then by id. */
async function expectedOrder(user: SignedIn, tag?: string): Promise<string[]> {
  const rows = await t.sql<{ id: string }[]>`
    select id from notes
    where user_id = ${user.id} ${tag ? t.sql`and ${tag} = any(tags)` : t.sql``}
    order by created_at desc, id desc`;
  return rows.map((row) => row.id);
}

describe('GET /notes', () => {
  it('lists the caller’s notes newest first, 20 by default', async () => {
    const user = await signUp(t);
    const first = await createNote(t, user, { title: 'first' });
    const second = await createNote(t, user, { title: 'second' });
    const page = await list(user);
    expect(page).toEqual({ items: [second, first], nextCursor: null });

    await insertNotes(
      user,
      Array.from({ length: 20 }, (_, i) => ({
        title: `old ${i}`,
        tags: [],
        at: `2020-01-01T00:00:${10 + i}Z`,
      })),
    );
    const full = await list(user);
    expect(full.items).toHaveLength(20);
    expect(full.items.slice(0, 2)).toEqual([second, first]);
    expect(full.nextCursor).toEqual(expect.any(String));
    const rest = await list(user, `?cursor=${full.nextCursor}`);
    expect(rest.items.map((note) => note.title)).toEqual(['old 1', 'old 0']);
    expect(rest.nextCursor).toBeNull();
  });

  it('pages through a tag across 3 pages without losing or repeating notes of equal timestamps', async () => {
    const user = await signUp(t);
    const other = await signUp(t);
    // Eight tagged notes: three share one instant, three more sit a microsecond apart inside one millisecond.
    const at = ['00.000100', '00.000100', '00.000100', '00.000101', '00.000102', '00.000102', '01', '02'];
    await insertNotes(user, [
      ...at.map((s, i) => ({ title: `tagged ${i}`, tags: ['work', 'x'], at: `2026-02-01T10:00:${s}Z` })),
      ...at.map((s, i) => ({ title: `untagged ${i}`, tags: ['home'], at: `2026-02-01T10:00:${s}Z` })),
    ]);
    await insertNotes(other, [{ title: 'not yours', tags: ['work'], at: '2026-02-01T10:00:00.000100Z' }]);

    const pages: Page[] = [await list(user, '?tag=work&limit=3')];
    for (let cursor = pages[0]?.nextCursor; cursor; cursor = pages.at(-1)?.nextCursor) {
      pages.push(await list(user, `?tag=work&limit=3&cursor=${cursor}`));
      if (pages.length > 5) break;
    }
    expect(pages.map((page) => page.items.length)).toEqual([3, 3, 2]);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    const ids = pages.flatMap((page) => page.items.map((note) => note.id));
    expect(ids).toEqual(await expectedOrder(user, 'work'));
    expect(pages.flatMap((page) => page.items).every((note) => note.tags.includes('work'))).toBe(true);
  });

  it('ends with a null cursor when the last page is exactly full', async () => {
    const user = await signUp(t);
    await insertNotes(
      user,
      [1, 2, 3, 4].map((i) => ({ title: `n${i}`, tags: [], at: '2026-02-01T10:00:00Z' })),
    );
    const first = await list(user, '?limit=2');
    const second = await list(user, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.items).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    expect([...first.items, ...second.items].map((note) => note.id)).toEqual(await expectedOrder(user));
  });

  it('shows no other user’s notes, with or without a tag', async () => {
    const [ada, bob] = [await signUp(t), await signUp(t)];
    const tag = `shared-${randomUUID().slice(0, 8)}`;
    await createNote(t, bob, { title: 'bob’s', tags: [tag] });
    const mine = await createNote(t, ada, { title: 'ada’s', tags: [tag] });
    expect((await list(ada)).items).toEqual([mine]);
    expect((await list(ada, `?tag=${tag}`)).items).toEqual([mine]);
    expect((await list(ada, '?tag=nothing-here')).items).toEqual([]);
  });

  it('answers 400 naming query.limit when it is not a whole number from 1 to 100', async () => {
    const user = await signUp(t);
    for (const limit of ['0', '101', 'ten', '2.5', '-1', '', '1e1']) {
      const response = await t.request('GET', `/notes?limit=${limit}`, { headers: user.headers });
      expect(response.status, limit).toBe(400);
      expect(await failingFields(response)).toEqual(['query.limit']);
    }
    expect((await list(user, '?limit=100')).items).toEqual([]);
  });

  it('answers 400 naming query.cursor for a malformed cursor', async () => {
    const user = await signUp(t);
    const encode = (text: string) => Buffer.from(text).toString('base64url');
    const id = randomUUID();
    const malformed = [
      'not a cursor',
      encode('hello'),
      encode(`2026-02-01T10:00:00.000100Z,not-a-uuid`),
      encode(`2026-02-01T10:00:00Z,${id}`),
      encode(`2026-13-01T10:00:00.000100Z,${id}`),
      encode(`2026-02-30T10:00:00.000100Z,${id}`),
      `${encode(`2026-02-01T10:00:00.000100Z,${id}`)}==`,
    ];
    for (const cursor of malformed) {
      const response = await t.request('GET', `/notes?cursor=${encodeURIComponent(cursor)}`, {
        headers: user.headers,
      });
      expect(response.status, cursor).toBe(400);
      expect(await failingFields(response)).toEqual(['query.cursor']);
    }
    const wellFormed = encode(`2026-02-01T10:00:00.000100Z,${id}`);
    expect((await list(user, `?cursor=${wellFormed}`)).items).toEqual([]);
  });

  it('answers 400 naming query.tag for a blank or overlong tag', async () => {
    const user = await signUp(t);
    for (const tag of ['%20', 'x'.repeat(51)]) {
      const response = await t.request('GET', `/notes?tag=${tag}`, { headers: user.headers });
      expect(response.status, tag).toBe(400);
      expect(await failingFields(response)).toEqual(['query.tag']);
    }
  });

  it('stops a page of large notes at its byte budget, and the cursor goes on from there', async () => {
    const budgeted = await createTestApp({ root: projectRoot, env: { NOTES_PAGE_MAX_BYTES: '50000' } });
    try {
      const user = await signUp(budgeted);
      // Control characters weigh six bytes each as JSON: each note is about 24 kB in a page.
      for (let i = 0; i < 5; i++)
        await createNote(budgeted, user, { title: `big ${i}`, body: '\u0001'.repeat(4_000) });
      const seen: string[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const response = await budgeted.request(
          'GET',
          `/notes?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
          {
            headers: user.headers,
          },
        );
        const text = await response.text();
        expect(text.length).toBeLessThan(50_000 + 30_000);
        const page = JSON.parse(text) as Page;
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((note) => note.title));
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(['big 4', 'big 3', 'big 2', 'big 1', 'big 0']);
    } finally {
      await budgeted.close();
    }
  });

  it('answers 401 without a valid access token', async () => {
    expect((await t.request('GET', '/notes')).status).toBe(401);
  });
});
