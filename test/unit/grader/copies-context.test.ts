import { describe, expect, it } from 'vitest';
import { copiesContext } from '../../../runner/src/grader/kinds/copies-context.js';
import { facts } from './builders.js';

// Lesson 2: the ignore file, not a rewritten Dockerfile, decides what reaches /app. Each row
// as the builder writes it in the image's history (BuildKit 0.13 and Engine 20.10's legacy builder).

const busyboxRow = '/bin/sh -c #(nop) COPY dir:0014727209f1e8d3a4c5b6a7980102030405060708090a0b0c0d0e0f10111213 in / ';
const judge = (...rows: string[]) => copiesContext.evaluate(facts({ history: [busyboxRow, ...rows].map((createdBy) => ({ createdBy, isEmptyLayer: false })) }), { destination: '/app' });

describe('copies-context: parameters', () => {
  it('takes an absolute folder without wildcards', () => {
    expect(copiesContext.params.safeParse({ destination: '/app' }).success).toBe(true);
    for (const destination of ['app', '/app/*', '/a?', '']) expect(copiesContext.params.safeParse({ destination }).success, destination).toBe(false);
  });
});

describe('copies-context: the whole context copied', () => {
  it("passes the lesson's own COPY . /app, as BuildKit and the legacy builder record it", () => {
    expect(judge('WORKDIR /app', 'COPY . /app # buildkit')).toEqual({ status: 'pass', expected: 'COPY . /app', actual: 'COPY . /app' });
    expect(judge('/bin/sh -c #(nop) WORKDIR /app', '/bin/sh -c #(nop) COPY dir:8d5c0a1e2f3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5 in /app ')).toMatchObject({ status: 'pass' });
  });

  it('passes the harmless ways of writing it: ./, a trailing slash, options, ADD, JSON form, a relative destination after WORKDIR', () => {
    for (const rows of [
      ['COPY ./ /app/ # buildkit'],
      ['COPY --chown=nobody:nogroup --link . /app # buildkit'],
      ['ADD . /app # buildkit'],
      ['COPY [".", "/app/"] # buildkit'],
      ['WORKDIR /app', 'COPY . . # buildkit'],
      ['WORKDIR /', 'WORKDIR app', 'COPY . ./ # buildkit'],
      ['WORKDIR /srv', 'COPY . /app # buildkit'],
      ['COPY "." "/app" # buildkit'],
      ['COPY src /app/src # buildkit', 'COPY . /app # buildkit'],
      ['COPY package.json . /app/ # buildkit'],
      ['WORKDIR app', 'COPY . . # buildkit'],
      ['WORKDIR "/app"', 'COPY . . # buildkit'],
      ['COPY . //app// # buildkit'],
    ]) {
      expect(judge(...rows).status, rows.join(' | ')).toBe('pass');
    }
  });
});

describe('copies-context: a Dockerfile rewritten to copy only the right files', () => {
  it('fails, listing what the history copies', () => {
    expect(judge('WORKDIR /app', 'COPY src /app/src # buildkit', 'COPY package.json package-lock.json README.md /app/ # buildkit')).toEqual({
      status: 'fail',
      expected: 'COPY . /app',
      actual: '3 COPY and ADD rows, none of . into /app',
      message:
        "No instruction copies the whole build context (.) into /app; the image's history has `COPY dir:0014727209f1… in /`, `COPY src /app/src`, `COPY package.json package-lock.json README.md /app/`.",
    });
  });

  it('fails the context copied elsewhere, a stage copied in, a relative destination under another WORKDIR, and a file named like the context', () => {
    for (const rows of [
      ['COPY . /srv # buildkit'],
      ['COPY . /app/site # buildkit'],
      ['COPY --from=build . /app # buildkit'],
      ['COPY --from=build /app /app # buildkit'],
      ['WORKDIR /srv', 'COPY . . # buildkit'],
      ['WORKDIR /app', 'COPY . site # buildkit'],
      ['COPY .env /app # buildkit'],
      ['COPY ./src /app # buildkit'],
      ['COPY /app # buildkit'],
      ['/bin/sh -c #(nop) COPY multi:8d5c0a1e2f3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5 in /app/ '],
      ['/bin/sh -c #(nop) COPY file:8d5c0a1e2f3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5 in /app '],
      ['RUN /bin/sh -c cp -r . /app # buildkit'],
      ['RUN /bin/sh -c echo WORKDIR /app # buildkit', 'COPY . . # buildkit'],
      ['RUN /bin/sh -c echo COPY . /app # buildkit'],
      ['COPY --chown=1 # buildkit'],
      ['COPY [".", "/app"] extra # buildkit'],
      ['COPY [".", 1] # buildkit'],
      ['COPY ["."] # buildkit'],
      ['COPY "./src" /app # buildkit'],
      ['COPY . /ap/p # buildkit'],
      ['COPY . /app/x/ # buildkit'],
      ['COPY --link --from=build . /app # buildkit'],
    ]) {
      expect(judge(...rows).status, rows.join(' | ')).toBe('fail');
    }
  });

  it('lists the last four copies when there are more, and says so when nothing was copied', () => {
    const many = ['a', 'b', 'c', 'd', 'e'].map((name) => `COPY ${name} /app/${name} # buildkit`);
    expect(judge(...many).message).toBe(
      "No instruction copies the whole build context (.) into /app; the image's history has `COPY b /app/b`, `COPY c /app/c`, `COPY d /app/d`, `COPY e /app/e` (and 2 before them).",
    );
    expect(copiesContext.evaluate(facts({ history: [] }), { destination: '/app/' })).toEqual({
      status: 'fail',
      expected: 'COPY . /app',
      actual: 'no COPY or ADD',
      message: "No instruction of the image's history copies anything, so nothing shows that the build context was copied into /app.",
    });
    expect(judge('COPY src /srv # buildkit').actual).toBe('2 COPY and ADD rows, none of . into /app');
    expect(copiesContext.evaluate(facts({ history: [{ createdBy: 'COPY src /srv # buildkit', isEmptyLayer: false }] }), { destination: '/app' }).actual).toBe('one COPY, none of . into /app');
  });

  it('says "before them" only when more than four were copied', () => {
    const four = ['a', 'b', 'c'].map((name) => `COPY ${name} /app/${name} # buildkit`);
    expect(judge(...four).message).not.toContain('before them');
  });

  it('reads an option-only or quoted-only line without failing, and a destination relative to a quoted WORKDIR', () => {
    expect(judge('COPY --link # buildkit').status).toBe('fail');
    expect(judge("WORKDIR '/app'", "COPY './' '.' # buildkit").status).toBe('pass');
    expect(judge('COPY "x /app # buildkit').status).toBe('fail');
  });

  it('shows names from the history escaped', () => {
    expect(judge('COPY \u001b]0;pwned\u0007 /app/x # buildkit').message).not.toContain('\u001b');
  });
});
