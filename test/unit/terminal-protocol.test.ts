import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../runner/src/terminal/protocol.js';
import { ReplayBuffer } from '../../runner/src/terminal/replay-buffer.js';
import { commandsOf } from '../../site/src/client/console-commands.js';

describe('terminal protocol', () => {
  it('accepts the messages the browser sends', () => {
    expect(parseClientMessage('{"type":"attach","cols":80,"rows":24}')).toEqual({ message: { type: 'attach', cols: 80, rows: 24 } });
    expect(parseClientMessage('{"type":"attach","cols":80,"rows":24,"sessionId":"abcdefgh12","offset":10}')).toHaveProperty('message.offset', 10);
    expect(parseClientMessage('{"type":"input","data":"ls\\r"}')).toEqual({ message: { type: 'input', data: 'ls\r' } });
    expect(parseClientMessage('{"type":"pause"}')).toEqual({ message: { type: 'pause' } });
  });

  it('explains what is wrong with a message it refuses', () => {
    expect(parseClientMessage('not json')).toEqual({ problem: 'a text frame that is not JSON' });
    expect(parseClientMessage('{"type":"resize","cols":0,"rows":24}')).toHaveProperty('problem', expect.stringContaining('cols'));
    expect(parseClientMessage('{"type":"exec","command":"rm -rf /"}')).toHaveProperty('problem');
    expect(parseClientMessage('{"type":"pause","extra":1}')).toHaveProperty('problem');
  });
});

describe('replay buffer', () => {
  it('gives exactly the bytes after an offset the browser already has', () => {
    const buffer = new ReplayBuffer(1024);
    buffer.append(Buffer.from('hello '));
    buffer.append(Buffer.from('world'));
    expect(buffer.since(6)).toEqual({ offset: 6, bytes: Buffer.from('world'), reset: false });
    expect(buffer.since(11).bytes.length).toBe(0);
  });

  it('replays everything, with a reset, to a browser that has nothing', () => {
    const buffer = new ReplayBuffer(1024);
    buffer.append(Buffer.from('prompt$ '));
    expect(buffer.since(undefined)).toEqual({ offset: 0, bytes: Buffer.from('prompt$ '), reset: true });
  });

  it('keeps memory bounded and restarts a replay at a line start once old output is dropped', () => {
    const buffer = new ReplayBuffer(16);
    for (let line = 0; line < 100; line++) buffer.append(Buffer.from(`line ${line}\n`));
    expect(buffer.end - buffer.start).toBe(16);
    const replay = buffer.since(3);
    expect(replay.reset).toBe(true);
    expect(replay.bytes.toString()).toBe('line 99\n');
    expect(replay.offset).toBe(buffer.end - 8);
  });
});

describe('run buttons', () => {
  it('type only the commands of a console transcript, with their continuation lines', () => {
    const transcript = ['$ docker build \\', '    -t lesson-7 .', '#1 [internal] load build definition', '$ docker images lesson-7', 'REPOSITORY   TAG'].join('\n');
    expect(commandsOf(transcript)).toBe('docker build \\\n    -t lesson-7 .\ndocker images lesson-7');
  });
});
