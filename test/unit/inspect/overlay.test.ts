import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainIdsOf, classifyUpper, findOverlayMount } from '../../../runner/src/inspect/overlay.js';

// Two lines as the sandbox's /proc/self/mountinfo lists them (Docker 26, overlay2), the second
// with a space in its mount point and a colon inside one lower folder's name.
const mountinfo = [
  '251 147 0:62 / / rw,relatime master:6 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/4L5E:/var/lib/docker/overlay2/l/FV5N,upperdir=/x/diff,workdir=/x/work',
  '515 273 0:172 / /var/lib/docker/overlay2/6d5d/merged rw,relatime - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/JT52:/var/lib/docker/overlay2/l/T4UB,upperdir=/var/lib/docker/overlay2/6d5d/diff,workdir=/var/lib/docker/overlay2/6d5d/work',
  '516 273 0:173 / /tmp/with\\040space rw - overlay overlay rw,lowerdir=/a\\:b:/c,upperdir=/u,workdir=/w',
  '517 273 0:174 / /proc rw - proc proc rw',
].join('\n');

describe('findOverlayMount', () => {
  it('reads the lower, upper and work folders of the overlay mounted at a folder', () => {
    expect(findOverlayMount(mountinfo, '/var/lib/docker/overlay2/6d5d/merged')).toEqual({
      superOptions: 'rw,lowerdir=/var/lib/docker/overlay2/l/JT52:/var/lib/docker/overlay2/l/T4UB,upperdir=/var/lib/docker/overlay2/6d5d/diff,workdir=/var/lib/docker/overlay2/6d5d/work',
      lowerDirs: ['/var/lib/docker/overlay2/l/JT52', '/var/lib/docker/overlay2/l/T4UB'],
      upperDir: '/var/lib/docker/overlay2/6d5d/diff',
      workDir: '/var/lib/docker/overlay2/6d5d/work',
    });
  });

  it('unescapes octal escapes in the mount point and "\\:" inside a lower folder', () => {
    expect(findOverlayMount(mountinfo, '/tmp/with space')?.lowerDirs).toEqual(['/a:b', '/c']);
  });

  it('finds nothing for a folder that is not an overlay mount point', () => {
    expect(findOverlayMount(mountinfo, '/proc')).toBeUndefined();
    expect(findOverlayMount(mountinfo, '/var/lib/docker/overlay2/nope/merged')).toBeUndefined();
  });
});

describe('chainIdsOf', () => {
  it('chains diff IDs as the image spec defines: sha256 of "<parent chain> <diff id>"', () => {
    const diffIds = [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`, `sha256:${'c'.repeat(64)}`];
    const second = createHash('sha256').update(`${diffIds[0]} ${diffIds[1]}`).digest('hex');
    const third = createHash('sha256').update(`sha256:${second} ${diffIds[2]}`).digest('hex');
    expect(chainIdsOf(diffIds)).toEqual(['a'.repeat(64), second, third]);
  });
});

describe('classifyUpper', () => {
  it('tells copy-ups, new files, whiteouts and opaque folders apart', () => {
    const entries = classifyUpper([
      { path: 'etc', type: 'directory', size: 0, lower: 1, lowerType: 'directory', lowerSize: 0 },
      { path: 'etc/motd', type: 'file', size: 30, lower: 2, lowerType: 'file', lowerSize: 12 },
      { path: 'etc/gone', type: 'char-device', size: 0, major: 0, minor: 0, lower: 3, lowerType: 'file', lowerSize: 99 },
      { path: 'dev-null', type: 'char-device', size: 0, major: 1, minor: 3 },
      { path: 'new.txt', type: 'file', size: 4 },
      { path: 'app', type: 'directory', size: 0, opaque: true, lower: 1, lowerType: 'directory', lowerSize: 0 },
      // A lower layer has /app/x, but the opaque folder above hides it: this one is new.
      { path: 'app/x', type: 'file', size: 1, lower: 1, lowerType: 'file', lowerSize: 5 },
    ]);
    expect(entries.map((entry) => [entry.path, entry.kind])).toEqual([
      ['/app', 'opaque-folder'],
      ['/app/x', 'created'],
      ['/dev-null', 'created'],
      ['/etc', 'folder'],
      ['/etc/gone', 'whiteout'],
      ['/etc/motd', 'copied-up'],
      ['/new.txt', 'created'],
    ]);
    expect(entries.find((entry) => entry.path === '/etc/gone')).toMatchObject({ device: { major: 0, minor: 0 }, hides: { lower: 3, type: 'file', sizeBytes: 99 } });
    expect(entries.find((entry) => entry.path === '/app/x')!.hides).toBeUndefined();
  });
});
