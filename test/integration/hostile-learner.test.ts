import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCourse, type StartedCourse } from '../support/course-server-process.js';
import { RawWebSocket } from '../support/raw-websocket.js';
import { hasStackTrace } from '../support/run-course.js';
import { TerminalClient } from '../support/terminal-client.js';

/**
 * What a hostile or careless learner can do to the runner and the sandbox, each probe
 * refused or survived. The runner is the real `course start`, in its own process, so a
 * probe that crashes it shows up as an exited process.
 */
let course: StartedCourse;

beforeAll(async () => {
  course = await startCourse(inject('sandboxEnv'));
});

afterAll(async () => {
  await course?.stop();
});

async function expectRunnerAnswers(): Promise<void> {
  expect(course.child.exitCode).toBe(null);
  const client = await TerminalClient.open(course.origin, course.token);
  try {
    await client.attach();
    client.type('echo "still $((40+2))"\r');
    await client.waitForText('still 42');
  } finally {
    await client.close();
  }
}

describe('bad WebSocket frames', () => {
  const text = 0x1;
  const cases: Array<{ name: string; opcode: number; payload: () => Buffer; mask?: boolean; code: number }> = [
    { name: 'a 5 MB text frame', opcode: text, payload: () => Buffer.alloc(5 * 1024 * 1024, 'a'), code: 1009 },
    { name: 'invalid UTF-8 in a text frame', opcode: text, payload: () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), code: 1007 },
    { name: 'an unmasked frame', opcode: text, payload: () => Buffer.from('{"type":"pause"}'), mask: false, code: 1002 },
    { name: 'reserved opcode 3', opcode: 0x3, payload: () => Buffer.from('x'), code: 1002 },
  ];
  for (const probe of cases) {
    it(`${probe.name} closes that socket with ${probe.code}; the runner keeps serving`, async () => {
      const raw = await RawWebSocket.open(course.origin, course.token);
      raw.sendFrame(probe.opcode, probe.payload(), { mask: probe.mask ?? true });
      expect(await raw.closeCode()).toBe(probe.code);
      await expectRunnerAnswers();
    });
  }

  it('a connection reset in the middle of a handshake or a frame leaves the runner up', async () => {
    const raw = await RawWebSocket.open(course.origin, course.token);
    raw.socket.write(Buffer.from([0x81, 0xfe, 0x10])); // the start of a frame header, then gone
    raw.socket.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expectRunnerAnswers();
    expect(hasStackTrace(course.stderr())).toBe(false);
  });
});
