import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine.js';
import type { LayerFolderRead, LayerFolders } from '../grader/types.js';
import { chainIdsOf } from '../inspect/overlay.js';
import { projectRoot } from '../project-root.js';
import type { Instance } from '../settings.js';

/**
 * The sandbox engine's layer folders, for the grader (see LayerFolders): overlay2 keeps each
 * layer's files in /var/lib/docker/overlay2/<cache-id>/diff, found through the layer database
 * (image/overlay2/layerdb/sha256/<chain ID>/{diff,cache-id}). They live inside the sandbox
 * container, so a tar writer (layer-tar.pl, in the sandbox's Perl) runs there, over one
 * layer's folder, and streams just that layer through `docker exec`, and of it only the bytes
 * facts read (programs whole, other files' first 4 KiB): on golang:1.24, 330 of its 630 MB.
 *
 * Everything there is the learner's to change (they are root in the sandbox), so nothing is
 * trusted: the config must hash to the image id (checked by the grader), the layer database
 * must name the very diffID asked for, a cache-id is a bare folder name, the tar writer
 * archives links as links and never follows one (nor descends into another file system), and any failure
 * means "not here": the grader then reads that layer from `docker save`.
 */
export function sandboxLayerFolders(connectHost: () => Promise<Engine>, instance: Instance): LayerFolders {
  let host: Promise<Engine> | undefined;
  const hostEngine = () => (host ??= connectHost());
  return {
    // What `docker save` on the sandbox's engine (26.1, API 1.45) writes.
    layout: 'oci',
    async readConfig(imageId) {
      const hex = /^sha256:([0-9a-f]{64})$/.exec(imageId)?.[1];
      if (!hex) return undefined;
      const exec = await startExec(await hostEngine(), instance, ['cat', '--', `${dockerRoot}/image/overlay2/imagedb/content/sha256/${hex}`]);
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of exec.stdout) {
        length += chunk.length;
        if (length <= maxConfigBytes) chunks.push(chunk);
      }
      const exitCode = await exec.exitCode();
      return exitCode === 0 && length <= maxConfigBytes ? Buffer.concat(chunks).toString('utf8') : undefined;
    },
    async readLayer(diffIds, signal, keepContentOf) {
      const diffId = diffIds.at(-1);
      const chainId = chainIdsOf(diffIds).at(-1);
      if (!diffId || !chainId || !/^sha256:[0-9a-f]{64}$/.test(diffId)) return undefined;
      signal?.throwIfAborted();
      const command = ['sh', '-c', layerTarScript, 'layer-tar', chainId, diffId, await layerTarPerl(), ...(keepContentOf ?? [])];
      const exec = await startExec(await hostEngine(), instance, command, signal);
      return exec.read;
    },
  };
}

const dockerRoot = '/var/lib/docker';
const maxConfigBytes = 8 * 1024 * 1024;
/** Once it streams, tar may pause on a slow disk; not for this long. */
const idleTimeoutMs = 120_000;
/** How much of tar's error output is kept for the message. */
const maxStderrBytes = 4096;
/** Exit status of the script when the layer is not in the folders (as opposed to tar failing). */
const notHereStatus = 3;

/**
 * Finds the layer's folder and archives it: `$1` the chain ID, `$2` the diffID it must name,
 * `$3` the Perl that writes the tar (layer-tar.pl: GNU tar's entries, in its order, with only
 * the bytes the grader reads), the rest the paths whose bytes a check wants whole.
 */
const layerTarScript = String.raw`
set -u
d=${dockerRoot}/image/overlay2/layerdb/sha256/$1
[ "$(cat -- "$d/diff" 2>/dev/null)" = "$2" ] || exit ${notHereStatus}
id=$(cat -- "$d/cache-id" 2>/dev/null) || exit ${notHereStatus}
case "$id" in ''|*[!0-9a-z]*) exit ${notHereStatus};; esac
dir=${dockerRoot}/overlay2/$id/diff
[ -d "$dir" ] && [ ! -L "$dir" ] || exit ${notHereStatus}
perl=$3
shift 3
exec perl -e "$perl" -- "$dir" "$@"
`;

let perlSource: Promise<string> | undefined;
/** The tar writer, read once from beside this file's source. */
function layerTarPerl(): Promise<string> {
  return (perlSource ??= readFile(path.join(projectRoot, 'runner', 'src', 'sandbox', 'layer-tar.pl'), 'utf8'));
}

interface StartedExec {
  stdout: AsyncIterable<Buffer>;
  exitCode(): Promise<number>;
  read: LayerFolderRead | undefined;
}

/**
 * Runs a command in the sandbox container as root (the layer folders are root's) and hands
 * its stdout over as it arrives, honouring backpressure: dockerode's demuxStream would buffer
 * a whole layer in memory whenever the grader reads slower than the socket delivers.
 */
async function startExec(host: Engine, instance: Instance, command: string[], signal?: AbortSignal): Promise<StartedExec> {
  const exec = await host.docker.getContainer(instance.containerName).exec({ Cmd: command, AttachStdout: true, AttachStderr: true, Tty: false });
  const socket = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  let stderr = '';
  let failure: Error | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  const stop = (error: Error) => {
    failure ??= error;
    socket.destroy(error);
  };
  const armIdleTimer = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => stop(new Error(`nothing came from the sandbox for ${idleTimeoutMs / 1000} s`)), idleTimeoutMs);
  };
  const onAbort = () => stop(new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  armIdleTimer();

  async function* stdout(): AsyncGenerator<Buffer> {
    try {
      yield* demultiplex(socket, armIdleTimer, (chunk) => {
        if (stderr.length < maxStderrBytes) stderr += chunk.toString('utf8');
      });
    } catch (error) {
      failure ??= error instanceof Error ? error : new Error(String(error));
    } finally {
      clearTimeout(idleTimer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
  const exitCode = async (): Promise<number> => {
    if (failure) return -1;
    // The stream can end a moment before the engine has recorded the exit.
    for (let attempt = 0; attempt < 50; attempt++) {
      const state = await exec.inspect();
      if (!state.Running) return state.ExitCode ?? -1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return -1;
  };
  const chunks = stdout();
  let hasChecked = false;
  return {
    stdout: chunks,
    exitCode,
    read: {
      chunks,
      async finished() {
        if (hasChecked) return;
        hasChecked = true;
        const code = await exitCode();
        if (failure) throw failure;
        if (code !== 0) throw new Error(code === notHereStatus ? 'the layer is not in the folders' : `tar in the sandbox exited ${code}: ${stderr.trim().slice(0, 300)}`);
      },
    },
  };
}

/**
 * Docker's multiplexed stream: frames of an 8-byte header (stream type; size, big-endian at
 * byte 4) and that many bytes. Yields stdout's bytes, hands stderr's to `onStderr`.
 */
async function* demultiplex(socket: AsyncIterable<Buffer>, onData: () => void, onStderr: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  let remaining = 0;
  let streamType = 1;
  for await (const chunk of socket) {
    onData();
    let data: Buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    pending = Buffer.alloc(0);
    while (data.length) {
      if (remaining === 0) {
        if (data.length < 8) {
          pending = data;
          break;
        }
        streamType = data[0]!;
        remaining = data.readUInt32BE(4);
        data = data.subarray(8);
        continue;
      }
      const part = data.subarray(0, remaining);
      remaining -= part.length;
      data = data.subarray(part.length);
      if (streamType === 2) onStderr(part);
      else if (streamType === 1) yield part;
    }
  }
}
