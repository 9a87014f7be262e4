import { describe, expect, it } from 'vitest';
import { withoutLaunchers } from '../../../runner/src/grader/kinds/launchers.js';

// env, nice, nohup and setsid exec what follows them; lessons 3 and 7 judge that program.

describe('withoutLaunchers', () => {
  it("takes off each launcher with its options, env's assignments and the values -u, -C and -n take", () => {
    expect(withoutLaunchers(['env', 'LANG=C', '_X1=', 'greet', 'world'])).toEqual(['greet', 'world']);
    expect(withoutLaunchers(['/usr/bin/env', '-i', '-u', 'HOME', '-C', '/tmp', 'greet'])).toEqual(['greet']);
    expect(withoutLaunchers(['nice', '-n', '5', 'nohup', 'setsid', '-w', 'greet'])).toEqual(['greet']);
    expect(withoutLaunchers(['env', '-', 'greet'])).toEqual(['greet']);
    expect(withoutLaunchers(['greet', 'env'])).toEqual(['greet', 'env']);
    expect(withoutLaunchers([])).toEqual([]);
  });

  it('stops at -- and takes what follows as the program, even a word that looks like an option', () => {
    expect(withoutLaunchers(['env', '--', '-weird', 'x'])).toEqual(['-weird', 'x']);
    expect(withoutLaunchers(['nice', '--', 'greet'])).toEqual(['greet']);
  });

  it('reads assignments for env only, and only names a shell could assign', () => {
    expect(withoutLaunchers(['nice', 'X=1', 'greet'])).toEqual(['X=1', 'greet']);
    expect(withoutLaunchers(['env', '1X=2', 'greet'])).toEqual(['1X=2', 'greet']);
    expect(withoutLaunchers(['env', 'A-B=2', 'greet'])).toEqual(['A-B=2', 'greet']);
  });

  it('takes a lone - as an option of env only; for the others it is the program', () => {
    expect(withoutLaunchers(['nice', '-', 'greet'])).toEqual(['-', 'greet']);
    expect(withoutLaunchers(['nohup', '-', 'greet'])).toEqual(['-', 'greet']);
  });

  it('takes a value only after the options that have one', () => {
    expect(withoutLaunchers(['env', '-i', 'HOME', 'greet'])).toEqual(['HOME', 'greet']);
    expect(withoutLaunchers(['nice', '-u', 'greet'])).toEqual(['greet']);
    expect(withoutLaunchers(['env', '-n', 'greet'])).toEqual(['greet']);
  });
});
