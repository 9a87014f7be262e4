import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { buildFacts } from '../../../runner/src/grader/facts/gather.js';
import type { ImageArchive } from '../../../runner/src/grader/facts/image-archive.js';
import type { LayerContents, LayerEntry } from '../../../runner/src/grader/facts/layer-tar.js';

// gatherImageFacts joins the engine's inspect data, the archive and the probes into the one
// ImageFacts every check judges; this is that join, with no engine.

const contents = (entries: Array<Partial<LayerEntry> & Pick<LayerEntry, 'path'>>, overrides: Partial<LayerContents> = {}): LayerContents => {
  const full = entries.map((entry) => ({ type: 'file' as const, sizeBytes: 10, mode: 0o644, ...entry }));
  return { entries: full, whiteouts: [], opaqueDirectories: [], sizeBytes: full.reduce((sum, entry) => sum + entry.sizeBytes, 0), entryCount: full.length, anomalies: [], ...overrides };
};
const inspect = (overrides: Partial<Docker.ImageInspectInfo> = {}) =>
  ({ Id: 'sha256:abc', Size: 1234, RootFS: { Type: 'layers', Layers: ['sha256:one', 'sha256:two'] }, Config: {}, ...overrides }) as Docker.ImageInspectInfo;
const archive = (overrides: Partial<ImageArchive> = {}): ImageArchive => ({
  layout: 'oci',
  config: {
    rootfs: { diff_ids: ['sha256:archive-one', 'sha256:archive-two'] },
    history: [{ created_by: 'ADD rootfs.tar / # buildkit' }, { created_by: 'ENV A=1', empty_layer: true, comment: 'buildkit.dockerfile.v0' }, { created_by: 'RUN /bin/sh -c apt-get install -y make # buildkit' }],
  },
  configJson: '{}',
  layers: [
    { archivePath: 'blobs/sha256/one', compression: 'none', contents: contents([{ path: 'bin', type: 'directory', sizeBytes: 0 }, { path: 'bin/sh', sizeBytes: 100 }]) },
    {
      archivePath: 'blobs/sha256/two',
      compression: 'gzip',
      contents: contents([{ path: 'usr/bin/make', sizeBytes: 200, mode: 0o755, identity: { kind: 'build-tool', family: 'make', tool: 'make', evidence: 'named make' } }, { path: 'etc/motd', sizeBytes: 5 }], { whiteouts: ['tmp/x'], opaqueDirectories: ['var/cache'] }),
    },
  ],
  ...overrides,
});

describe('buildFacts', () => {
  it('describes every layer: its diffID, sizes, instruction, entries and what it deletes', () => {
    const facts = buildFacts('lesson-7', inspect(), archive(), {});
    expect(facts.layers).toEqual([
      {
        index: 0,
        diffId: 'sha256:one',
        sizeBytes: 100,
        entryCount: 2,
        createdBy: 'ADD rootfs.tar / # buildkit',
        instruction: 'ADD rootfs.tar /',
        compression: 'none',
        addedBuildTools: [],
        entries: archive().layers[0]!.contents!.entries,
        whiteouts: [],
        opaqueDirectories: [],
      },
      {
        index: 1,
        diffId: 'sha256:two',
        sizeBytes: 205,
        entryCount: 2,
        createdBy: 'RUN /bin/sh -c apt-get install -y make # buildkit',
        instruction: 'RUN apt-get install -y make',
        compression: 'gzip',
        addedBuildTools: ['/usr/bin/make'],
        entries: archive().layers[1]!.contents!.entries,
        whiteouts: ['tmp/x'],
        opaqueDirectories: ['var/cache'],
      },
    ]);
    expect(facts.buildTools.map((finding) => [finding.family, finding.path, finding.addedInLayer])).toEqual([['make', '/usr/bin/make', 1]]);
    expect([...facts.files.keys()].sort()).toEqual(['bin', 'bin/sh', 'etc/motd', 'usr/bin/make']);
  });

  it('keeps the image, its config as a container gets it, the history rows and the probes', () => {
    const probes = { referenceImages: { base: { ref: 'base', isPresent: false as const } } };
    const config = { User: '65532', Entrypoint: ['/hello'], Cmd: ['--port', '8080'], Env: ['A=1'], ExposedPorts: { '8080/tcp': {}, '9090/udp': {} }, WorkingDir: '/srv', Labels: { a: 'b' } };
    const facts = buildFacts('lesson-7', inspect({ Created: '2026-01-01T00:00:00Z', Config: config as unknown as Docker.ImageInspectInfo['Config'] }), archive(), probes);
    expect(facts).toMatchObject({
      ref: 'lesson-7',
      id: 'sha256:abc',
      sizeBytes: 1234,
      created: '2026-01-01T00:00:00Z',
      config: { user: '65532', entrypoint: ['/hello'], cmd: ['--port', '8080'], env: ['A=1'], exposedPorts: ['8080/tcp', '9090/udp'], workingDir: '/srv', labels: { a: 'b' } },
      archiveLayout: 'oci',
      probes,
    });
    expect(facts.history).toEqual([
      { createdBy: 'ADD rootfs.tar / # buildkit', isEmptyLayer: false },
      { createdBy: 'ENV A=1', isEmptyLayer: true, comment: 'buildkit.dockerfile.v0' },
      { createdBy: 'RUN /bin/sh -c apt-get install -y make # buildkit', isEmptyLayer: false },
    ]);
    // Only the row the builder wrote a comment for has one.
    expect(facts.history.map((row) => 'comment' in row)).toEqual([false, true, false]);
    expect(facts.loaderCache).toEqual({ state: 'absent' });
  });

  it('fills an empty config with what an engine means by it', () => {
    const facts = buildFacts('x', inspect({ Config: undefined as unknown as Docker.ImageInspectInfo['Config'] }), archive({ config: {} }), {});
    expect(facts.config).toEqual({ user: '', entrypoint: null, cmd: null, env: [], exposedPorts: [], workingDir: '', labels: {} });
    expect(facts.history).toEqual([]);
    expect('created' in facts).toBe(false);
    expect(facts.layers.map((layer) => [layer.diffId, layer.instruction, layer.createdBy])).toEqual([
      ['sha256:one', undefined, undefined],
      ['sha256:two', undefined, undefined],
    ]);
    expect(facts.layers.every((layer) => !('instruction' in layer) && !('createdBy' in layer))).toBe(true);
  });

  it("takes the archive's diffIDs when the engine gave none, and marks layers the archive lacks or could not read", () => {
    const layers = [{ archivePath: 'blobs/sha256/one', compression: 'zstd' as const, unreadable: 'it is compressed with zstd' }];
    const three = { rootfs: { diff_ids: ['sha256:a', 'sha256:b', 'sha256:c'] } };
    const facts = buildFacts('x', inspect({ RootFS: undefined as unknown as Docker.ImageInspectInfo['RootFS'] }), archive({ config: three, layers }), {});
    expect(facts.layers).toEqual([
      { index: 0, diffId: 'sha256:a', sizeBytes: 0, entryCount: 0, compression: 'zstd', unreadable: 'it is compressed with zstd', addedBuildTools: [], entries: [], whiteouts: [], opaqueDirectories: [] },
      { index: 1, diffId: 'sha256:b', sizeBytes: 0, entryCount: 0, compression: 'none', unreadable: 'the archive lists fewer layers than the image has', addedBuildTools: [], entries: [], whiteouts: [], opaqueDirectories: [] },
      { index: 2, diffId: 'sha256:c', sizeBytes: 0, entryCount: 0, compression: 'none', unreadable: 'the archive lists fewer layers than the image has', addedBuildTools: [], entries: [], whiteouts: [], opaqueDirectories: [] },
    ]);
  });

  it('counts the layers the archive holds when it holds more than the engine named', () => {
    const facts = buildFacts('x', inspect({ RootFS: { Type: 'layers', Layers: ['sha256:one'] } }), archive(), {});
    expect(facts.layers.map((layer) => [layer.diffId, layer.sizeBytes])).toEqual([
      ['sha256:one', 100],
      ['', 205],
    ]);
    const none = buildFacts('x', inspect({ RootFS: undefined as unknown as Docker.ImageInspectInfo['RootFS'] }), archive({ config: { history: [] }, layers: [] }), {});
    expect(none.layers).toEqual([]);
  });
});
