import { connectEngine, isNotFound, type Engine } from '../../engine.js';
import { environmentError } from '../../errors.js';

/**
 * Where a port that `engine` publishes can be dialled from this process.
 * - tcp://host:port: that host.
 * - a sandbox's socket (…/sandboxes/<name>/docker.sock): the nested engine publishes ports
 *   in the sandbox container's network namespace, so we dial the sandbox's own address on
 *   the engine that runs it (the local one).
 * - any other unix socket: a local engine, 127.0.0.1.
 * Engines in a VM (Docker Desktop) publish on localhost too, so 127.0.0.1 suits them.
 */
export async function findPublishedPortHost(engine: Engine): Promise<string> {
  if (engine.address.startsWith('tcp://')) {
    // URL keeps the brackets of an IPv6 host ("[::1]"); a socket wants the bare address.
    return new URL(engine.address.replace(/^tcp:/, 'http:')).hostname.replace(/^\[(.*)\]$/, '$1');
  }
  const sandboxName = sandboxNameOf(engine.address);
  if (sandboxName) return await sandboxAddress(`${sandboxName}-sandbox`);
  return '127.0.0.1';
}

function sandboxNameOf(address: string): string | undefined {
  return /\/sandboxes\/([^/]+)\/docker\.sock$/.exec(address)?.[1];
}

/**
 * The engine that runs the sandboxes, as `course up` finds it; except when DOCKER_HOST
 * points into a sandbox itself (a learner may export it to use the sandbox from the host).
 */
async function connectHostEngine(): Promise<Engine> {
  const dockerHost = process.env.DOCKER_HOST;
  return await connectEngine(dockerHost && !sandboxNameOf(dockerHost) ? dockerHost : 'unix:///var/run/docker.sock');
}

/** The sandbox container's IP address on the engine that runs it. */
export async function sandboxAddress(containerName: string, hostEngine?: Engine): Promise<string> {
  const engine = hostEngine ?? (await connectHostEngine());
  let info;
  try {
    info = await engine.docker.getContainer(containerName).inspect();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw environmentError(`The sandbox container ${containerName} is not on the engine at ${engine.address}.`, 'Run `course up`, then check again.');
  }
  const networks = Object.values(info.NetworkSettings.Networks ?? {});
  const legacyAddress = (info.NetworkSettings as { IPAddress?: string }).IPAddress;
  const address = legacyAddress || networks.find((network) => network.IPAddress)?.IPAddress;
  if (!address) {
    throw environmentError(`The sandbox container ${containerName} has no network address.`, 'Run `course up` to restart it, then check again.');
  }
  return address;
}
