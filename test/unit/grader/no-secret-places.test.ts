import { describe, expect, it } from 'vitest';
import { noSecret } from '../../../runner/src/grader/kinds/no-secret.js';
import type { ImageConfigFacts, ImageFacts } from '../../../runner/src/grader/types.js';
import { facts } from './builders.js';

/** What a learner reads when a secret leaks: each place named, the secret masked, the count. */

const secret = 'glt_7c41e09b2f5d8a36';
const params = { value: secret, name: 'the GREET_TOKEN value' };
const after = ' Anyone who has the image reads it with docker image inspect or docker history, no container needed.';

function image(config: Partial<ImageConfigFacts>, history: ImageFacts['history'] = []): ImageFacts {
  const base = facts();
  return facts({ config: { ...base.config, entrypoint: null, cmd: null, user: '', workingDir: '', env: [], labels: {}, ...config }, history });
}

describe('no-secret, as the learner reads it', () => {
  it('names every part of the config that holds the secret, masked, in order, with the count', () => {
    const outcome = noSecret.evaluate(
      image({
        env: ['PATH=/bin', `TOKEN=${secret}`],
        labels: { [`key-${secret}`]: 'plain', note: 'fine' },
        entrypoint: ['/greet', `--token=${secret}`],
        cmd: [secret],
        user: `u${secret}`,
        workingDir: `/srv/${secret}`,
      }),
      params,
    );
    expect(outcome).toEqual({
      status: 'fail',
      expected: 'the GREET_TOKEN value in neither the config nor the history',
      actual: 'found in 6 places',
      message:
        'The GREET_TOKEN value (shown here as ***) is in the image: the environment (ENV TOKEN=***); the label key-***=plain; the ENTRYPOINT; the CMD; the USER; the WORKDIR.' +
        after,
    });
  });

  it('passes when only part of the secret, or nothing, is there; says so as the expectation', () => {
    const partial = image({ env: [`TOKEN=${secret.slice(0, -1)}`], entrypoint: ['/greet'], cmd: ['world'], user: 'app', workingDir: '/srv' }, [
      { createdBy: 'ENV TOKEN=', isEmptyLayer: true, comment: 'no secret here' },
    ]);
    expect(noSecret.evaluate(partial, params)).toEqual({ status: 'pass', expected: 'the GREET_TOKEN value in neither the config nor the history', actual: 'not found' });
  });

  it('lists six places and counts the rest', () => {
    const env = Array.from({ length: 8 }, (_, index) => `V${index}=${secret}`);
    const outcome = noSecret.evaluate(image({ env }), params);
    expect(outcome.actual).toBe('found in 8 places');
    expect(outcome.message).toBe(
      `The GREET_TOKEN value (shown here as ***) is in the image: ${env
        .slice(0, 6)
        .map((_, index) => `the environment (ENV V${index}=***)`)
        .join('; ')}; and 2 more.${after}`,
    );
  });

  it('says exactly six places without "more"', () => {
    const env = Array.from({ length: 6 }, (_, index) => `V${index}=${secret}`);
    const outcome = noSecret.evaluate(image({ env }), params);
    expect(outcome.actual).toBe('found in 6 places');
    expect(outcome.message).not.toContain('more');
    expect(outcome.message).toContain('the environment (ENV V5=***).');
  });

  it('counts one place in the singular and capitalises only the first letter of the name', () => {
    const outcome = noSecret.evaluate(image({ labels: { token: secret } }), { value: secret, name: 'the API key' });
    expect(outcome.actual).toBe('found in 1 place');
    expect(outcome.message).toBe(`The API key (shown here as ***) is in the image: the label token=***.${after}`);
  });

  it('finds it in a history row or its comment, and quotes the instruction with the build arguments BuildKit wrote', () => {
    const outcome = noSecret.evaluate(
      image({}, [
        { createdBy: '/bin/sh -c #(nop)  ARG GREET_TOKEN', isEmptyLayer: true },
        { createdBy: `|2 GREET_TOKEN=${secret} MODE=fast /bin/sh -c make greet`, isEmptyLayer: false },
        { createdBy: `RUN |1 GREET_TOKEN=${secret} /bin/sh -c chmod 755 /greet # buildkit`, isEmptyLayer: false },
        { createdBy: 'COPY greet /greet # buildkit', isEmptyLayer: false, comment: `built with ${secret}` },
        { createdBy: `/bin/sh -c #(nop)  LABEL token=${secret}`, isEmptyLayer: true },
      ]),
      params,
    );
    expect(outcome.actual).toBe('found in 4 places');
    expect(outcome.message).toBe(
      'The GREET_TOKEN value (shown here as ***) is in the image: ' +
        'the history row `RUN |2 GREET_TOKEN=*** MODE=fast make greet`; ' +
        'the history row `RUN |1 GREET_TOKEN=*** chmod 755 /greet`; ' +
        'the history row `COPY greet /greet`; ' +
        'the history row `LABEL token=***`.' +
        after,
    );
  });

  it('quotes a RUN row without build arguments as the command alone', () => {
    const outcome = noSecret.evaluate(image({}, [{ createdBy: `/bin/sh -c echo ${secret} > /etc/greet.conf`, isEmptyLayer: false }]), params);
    expect(outcome.message).toBe(`The GREET_TOKEN value (shown here as ***) is in the image: the history row \`RUN echo *** > /etc/greet.conf\`.${after}`);
  });

  it('refuses a secret too short to search for, an empty name and unknown parameters', () => {
    expect(noSecret.params.safeParse(params).success).toBe(true);
    expect(noSecret.params.safeParse({ value: '12345678', name: 'x' }).success).toBe(true);
    expect(noSecret.params.safeParse({ value: '1234567', name: 'x' }).success).toBe(false);
    expect(noSecret.params.safeParse({ value: secret, name: '' }).success).toBe(false);
    expect(noSecret.params.safeParse({ value: secret, name: 'ab' }).success).toBe(true);
    expect(noSecret.params.safeParse({ value: secret }).success).toBe(false);
    expect(noSecret.params.safeParse({ ...params, extra: 1 }).success).toBe(false);
  });

  it('says what it checks', () => {
    expect(noSecret.summary).toBe('A secret is in neither the image config nor its history');
  });
});
