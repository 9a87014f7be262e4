import { createHash } from 'node:crypto';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { isNotFound, withTimeout, type Engine } from '../engine.js';
import { environmentError, usageError } from '../errors.js';
import { layerOrigins } from '../grader/facts/history.js';
import type { ImageConfigJson } from '../grader/facts/image-archive.js';
import type { Instance } from '../settings.js';
import { overlaySchemaVersion, type OverlayLower, type OverlayReport, type UpperEntry } from '../contract/inspect.js';

/** A container's upper folder with more entries than this is cut short (and says so). */
export const maxUpperEntries = 20_000;
const execTimeoutMs = 30_000;
const dockerRoot = '/var/lib/docker';

export interface OverlaySources {
  /** The engine the sandbox container runs on. */
  host: Engine;
  instance: Instance;
  /** The sandbox's own engine, where the learner's containers run. */
  nested: Engine;
}

/**
 * The overlay2 mount of one container in the sandbox, as the kernel sees it: the mount line
 * from /proc/self/mountinfo of the sandbox (where the nested engine mounts it), each lower
 * folder matched to its image layer through the engine's layer database (diff ID -> chain
 * ID -> cache-id), and every entry of the upper folder classified. The folders live inside
 * the sandbox container, so they are read there, with tools its image has (cat, perl).
 */
export async function exploreContainer(sources: OverlaySources, name: string): Promise<OverlayReport> {
  const { nested } = sources;
  let container: Docker.ContainerInspectInfo;
  try {
    container = await withTimeout(nested.docker.getContainer(name).inspect(), execTimeoutMs, 'no answer');
  } catch (error) {
    if (isNotFound(error)) {
      throw usageError(`There is no container "${name}" in the sandbox.`, 'Run `docker ps -a` in the sandbox to see its containers, or start one with `docker run -d --name NAME IMAGE`.');
    }
    throw error;
  }
  // dockerode types GraphDriver.Data after devicemapper; overlay2 fills in these folders.
  const driverName = container.GraphDriver?.Name;
  const data = (container.GraphDriver?.Data ?? {}) as unknown as Partial<Record<'LowerDir' | 'UpperDir' | 'WorkDir' | 'MergedDir', string>>;
  if (driverName !== 'overlay2' || !data.UpperDir) {
    throw environmentError(`The container "${name}" is stored by the ${driverName ?? 'unknown'} driver, not overlay2.`, 'The overlay2 explorer needs the sandbox engine\'s default storage driver.');
  }
  const image = await nested.docker.getImage(container.Image).inspect();
  const diffIds = image.RootFS?.Layers ?? [];
  const chainIds = chainIdsOf(diffIds);
  const isRunning = container.State?.Running === true;

  let mount: OverlayReport['mount'];
  let lowerPaths = (data.LowerDir ?? '').split(':').filter(Boolean);
  let upperDir = data.UpperDir;
  let workDir = data.WorkDir ?? '';
  const mergedDir = data.MergedDir ?? '';
  if (isRunning) {
    const mountinfo = await execInSandbox(sources, ['cat', '/proc/self/mountinfo']);
    const found = findOverlayMount(mountinfo, mergedDir);
    if (found) {
      mount = { mergedDir, options: found.superOptions };
      lowerPaths = found.lowerDirs;
      upperDir = found.upperDir ?? upperDir;
      workDir = found.workDir ?? workDir;
    }
  }

  const request = { upper: upperDir, lowers: lowerPaths, chainIds, imageId: image.Id.replace(/^sha256:/, ''), limit: maxUpperEntries, root: dockerRoot };
  const probe = JSON.parse(await execInSandbox(sources, ['perl', '-e', overlayProbeScript, JSON.stringify(request)])) as ProbeOutput;
  const config = probe.config ? (JSON.parse(probe.config) as ImageConfigJson) : undefined;
  const origins = layerOrigins(config?.history, diffIds.length);
  const layerByCacheId = new Map<string, number>();
  chainIds.forEach((chainId, index) => {
    const cacheId = probe.layers[chainId]?.cacheId?.trim();
    if (cacheId) layerByCacheId.set(cacheId, index);
  });

  const lowers = lowerPaths.map((lowerPath): OverlayLower => {
    const target = probe.links[lowerPath];
    const dir = target ? path.posix.resolve(path.posix.dirname(lowerPath), target) : lowerPath;
    const cacheId = path.posix.basename(path.posix.dirname(dir));
    const lower: OverlayLower = { dir, ...(target ? { link: lowerPath } : {}), cacheId, role: 'unknown' };
    if (cacheId.endsWith('-init')) return { ...lower, role: 'init' };
    const layerIndex = layerByCacheId.get(cacheId);
    if (layerIndex === undefined) return lower;
    const instruction = origins[layerIndex]?.instruction;
    return { ...lower, role: 'image-layer', layerIndex, diffId: diffIds[layerIndex]!, chainId: chainIds[layerIndex]!, ...(instruction ? { instruction } : {}) };
  });

  return {
    schemaVersion: overlaySchemaVersion,
    container: { name: (container.Name ?? name).replace(/^\//, ''), id: container.Id, image: container.Config?.Image ?? container.Image, imageId: image.Id, isRunning },
    ...(mount ? { mount } : {}),
    lowers,
    upperDir,
    workDir,
    mergedDir,
    upper: classifyUpper(probe.entries),
    isTruncated: probe.truncated === true,
  };
}

/** Chain IDs name layers in the engine's layer database (image-spec config.md, "Layer ChainID"). */
export function chainIdsOf(diffIds: readonly string[]): string[] {
  const chainIds: string[] = [];
  diffIds.forEach((diffId, index) => {
    chainIds.push(index === 0 ? diffId : `sha256:${createHash('sha256').update(`${chainIds[index - 1]} ${diffId}`).digest('hex')}`);
  });
  return chainIds.map((chainId) => chainId.replace(/^sha256:/, ''));
}

export interface MountedOverlay {
  superOptions: string;
  lowerDirs: string[];
  upperDir?: string;
  workDir?: string;
}

/**
 * Finds the overlay mounted at `mountPoint` in a mountinfo text (proc(5): the 5th field is the
 * mount point with space, tab, newline and backslash written as octal escapes; after " - "
 * come the type, the source and the super options).
 */
export function findOverlayMount(mountinfo: string, mountPoint: string): MountedOverlay | undefined {
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (separator < 0 || fields[separator + 1] !== 'overlay') continue;
    if (unescapeMountinfo(fields[4] ?? '') !== mountPoint) continue;
    const superOptions = unescapeMountinfo(fields[separator + 3] ?? '');
    const options = new Map<string, string>();
    for (const option of superOptions.split(',')) {
      const equals = option.indexOf('=');
      if (equals > 0) options.set(option.slice(0, equals), option.slice(equals + 1));
    }
    // overlayfs lets "\:" stand for a colon inside one folder name.
    const lowerDirs = (options.get('lowerdir') ?? '').split(/(?<!\\):/).filter(Boolean).map((dir) => dir.replace(/\\:/g, ':'));
    const upperDir = options.get('upperdir');
    const workDir = options.get('workdir');
    return { superOptions, lowerDirs, ...(upperDir ? { upperDir } : {}), ...(workDir ? { workDir } : {}) };
  }
  return undefined;
}

function unescapeMountinfo(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export interface ProbedEntry {
  path: string;
  type: UpperEntry['type'];
  size: number;
  major?: number;
  minor?: number;
  opaque?: boolean;
  lower?: number;
  lowerType?: UpperEntry['type'];
  lowerSize?: number;
}

interface ProbeOutput {
  links: Record<string, string>;
  layers: Record<string, { cacheId?: string; diffId?: string }>;
  config?: string;
  entries: ProbedEntry[];
  truncated?: boolean;
}

/** What each entry of the upper folder does to the merged view. */
export function classifyUpper(entries: readonly ProbedEntry[]): UpperEntry[] {
  // Below an opaque folder nothing of the lower layers shows, whatever they hold.
  const opaque = entries.filter((entry) => entry.type === 'directory' && entry.opaque).map((entry) => `${entry.path}/`);
  return entries
    .map((found): UpperEntry => {
      const isUnderOpaque = opaque.some((prefix) => found.path.startsWith(prefix));
      const entry: ProbedEntry = isUnderOpaque ? { path: found.path, type: found.type, size: found.size, ...(found.major !== undefined ? { major: found.major, minor: found.minor ?? -1 } : {}), ...(found.opaque ? { opaque: true } : {}) } : found;
      const hides = entry.lower !== undefined ? { hides: { lower: entry.lower, type: entry.lowerType ?? 'other', sizeBytes: entry.lowerSize ?? 0 } } : {};
      const base = { path: `/${entry.path}`, type: entry.type, sizeBytes: entry.size, ...hides };
      if (entry.type === 'char-device') {
        const device = { major: entry.major ?? -1, minor: entry.minor ?? -1 };
        const kind = device.major === 0 && device.minor === 0 ? 'whiteout' : entry.lower !== undefined ? 'copied-up' : 'created';
        return { ...base, kind, device };
      }
      if (entry.type === 'directory') return { ...base, kind: entry.opaque ? 'opaque-folder' : entry.lower !== undefined && entry.lowerType === 'directory' ? 'folder' : 'created' };
      return { ...base, kind: entry.lower !== undefined ? 'copied-up' : 'created' };
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Runs a command in the sandbox container and returns its output; fails with what it printed. */
export async function execInSandbox({ host, instance }: OverlaySources, command: string[]): Promise<string> {
  const exec = await host.docker.getContainer(instance.containerName).exec({ Cmd: command, AttachStdout: true, AttachStderr: true, Tty: false });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  host.docker.modem.demuxStream(stream, stdout, stderr);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    }),
    execTimeoutMs,
    `${command[0]} in the sandbox did not finish within ${execTimeoutMs / 1000} s`,
  );
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0) {
    throw environmentError(
      `Reading the container's folders in the sandbox failed (${command[0]} exited ${ExitCode}): ${Buffer.concat(err).toString('utf8').trim().slice(0, 300)}`,
      'Run `course up` to make sure the sandbox is current, then try again.',
    );
  }
  return Buffer.concat(out).toString('utf8');
}

/**
 * Runs in the sandbox as root. Reads the short links overlay2 mounts by, the layer database
 * entries for the image's chain IDs, the image config, then walks the upper folder: type,
 * size, device numbers, the opaque mark (an extended attribute: trusted.overlay.opaque=y,
 * read with lgetxattr(2) since the image has no getfattr) and the topmost lower folder that
 * holds the same path. Names that are not UTF-8 come back with U+FFFD in place of bad bytes.
 */
const overlayProbeScript = String.raw`
use strict; use warnings; use JSON::PP; use Encode (); use Fcntl ':mode';
require 'syscall.ph';
my $req = JSON::PP->new->decode($ARGV[0]);
sub text { Encode::decode('UTF-8', $_[0], Encode::FB_DEFAULT) }
sub slurp { my $f = shift; open(my $h, '<', $f) or return undef; local $/; my $c = <$h>; close $h; return $c }
sub kind { my $m = shift; return S_ISREG($m) ? 'file' : S_ISDIR($m) ? 'directory' : S_ISLNK($m) ? 'symlink' : S_ISCHR($m) ? 'char-device' : 'other' }
sub xattr { my ($p, $n) = @_; my $buf = "\0" x 64; my $r = syscall(&SYS_lgetxattr, $p, $n, $buf, 64); return $r > 0 ? substr($buf, 0, $r) : '' }
my %links; for my $l (@{$req->{lowers}}) { my $t = readlink($l); $links{$l} = text($t) if defined $t }
my %layers; for my $c (@{$req->{chainIds}}) { my $d = "$req->{root}/image/overlay2/layerdb/sha256/$c"; $layers{$c} = { cacheId => slurp("$d/cache-id"), diffId => slurp("$d/diff") } }
my $config = slurp("$req->{root}/image/overlay2/imagedb/content/sha256/$req->{imageId}");
my @entries; my $truncated = JSON::PP::false; my @stack = ('');
WALK: while (@stack) {
  my $rel = pop @stack;
  my $dir = $rel eq '' ? $req->{upper} : "$req->{upper}/$rel";
  opendir(my $dh, $dir) or next;
  my @names = sort grep { $_ ne '.' && $_ ne '..' } readdir $dh; closedir $dh;
  for my $name (@names) {
    if (@entries >= $req->{limit}) { $truncated = JSON::PP::true; last WALK }
    my $p = $rel eq '' ? $name : "$rel/$name";
    my @st = lstat("$req->{upper}/$p") or next;
    my $k = kind($st[2]);
    my %e = (path => text($p), type => $k, size => ($k eq 'file' ? $st[7] : 0));
    if ($k eq 'char-device') { $e{major} = (($st[6] >> 8) & 0xfff) | (($st[6] >> 32) & ~0xfff); $e{minor} = ($st[6] & 0xff) | (($st[6] >> 12) & ~0xff & 0xffffffff) }
    if ($k eq 'directory') { $e{opaque} = JSON::PP::true if xattr("$req->{upper}/$p", 'trusted.overlay.opaque') eq 'y'; push @stack, $p }
    for my $i (0 .. $#{$req->{lowers}}) { my @l = lstat("$req->{lowers}[$i]/$p"); if (@l) { my $lk = kind($l[2]); $e{lower} = $i; $e{lowerType} = $lk; $e{lowerSize} = $lk eq 'file' ? $l[7] : 0; last } }
    push @entries, \%e;
  }
}
print JSON::PP->new->utf8->canonical->encode({ links => \%links, layers => \%layers, config => $config, entries => \@entries, truncated => $truncated });
`;
