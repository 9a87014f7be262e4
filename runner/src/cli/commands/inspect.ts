import path from 'node:path';
import { connectEngine } from '../../engine.js';
import { layerFactsFolder } from '../../grade-and-record.js';
import { openLayerFactsCache } from '../../grader/facts/layer-cache.js';
import { ExitCode, usageError } from '../../errors.js';
import { analyseImage } from '../../inspect/analyse-image.js';
import { readImageFromArchive, readImageFromEngine } from '../../inspect/image-source.js';
import { exploreContainer } from '../../inspect/overlay.js';
import { renderCacheText, renderInspectText, renderOverlayText } from '../../inspect/render-text.js';
import { explainSandboxBuild } from '../../inspect/cache-explainer.js';
import { connectNestedEngine } from '../../sandbox/nested-engine.js';
import { resolveInstance } from '../../settings.js';
import type { Command } from '../command.js';
import { paintFor } from '../style.js';

const formats = ['text', 'json'] as const;
type Format = (typeof formats)[number];

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'See inside an image: each layer\'s files, the size ledger, dive\'s efficiency',
  usage: 'course inspect IMAGE [--docker-host URL] [--format text|json] | --archive FILE | --container NAME | --explain-build FOLDER --tag NAME [--build-arg K=V]',
  optionHelp: [
    '--archive FILE     read a `docker save` archive instead of an engine (legacy or OCI layout, may be gzipped)',
    '--container NAME   show a sandbox container\'s overlay2 mount: its folders, each lower matched to its image layer, and its changes',
    '--explain-build FOLDER  build a folder of the sandbox (e.g. /root/exercises/lesson-5) with --tag NAME and',
    '                   [--build-arg K=V]...; say which steps came from the cache and why each other step ran',
    '--docker-host URL  read from this engine instead of the sandbox (DOCKER_HOST does the same)',
    '--format FORMAT    text (default) or json (schemaVersion, sizeBytes, efficiency, wastedBytes, layers[])',
  ],
  options: {
    archive: { type: 'string' },
    container: { type: 'string' },
    'explain-build': { type: 'string' },
    tag: { type: 'string' },
    'build-arg': { type: 'string', multiple: true },
    'docker-host': { type: 'string' },
    format: { type: 'string' },
  },
  maxPositionals: 1,
  async run({ values, positionals }, { stdout, progress, signal }) {
    const format = parseFormat(values.format);
    if (typeof values['explain-build'] === 'string') {
      if (positionals.length || values.archive !== undefined || values.container !== undefined || values['docker-host'] !== undefined) {
        throw usageError('--explain-build builds a folder of the sandbox; it takes no image, --archive, --container or --docker-host.', `Usage: ${inspectCommand.usage}`);
      }
      const tag = typeof values.tag === 'string' ? values.tag : undefined;
      if (!tag) throw usageError('--explain-build needs --tag NAME, the image to build (lower case), as `docker build -t`.', 'For example: course inspect --explain-build /root/exercises/lesson-5 --tag lesson-5');
      const buildArgs = parseBuildArgs(values['build-arg']);
      const folder = path.posix.resolve('/root', values['explain-build']);
      const instance = resolveInstance();
      const nested = await connectNestedEngine(instance);
      const report = await progress.step(`Building ${folder} as ${tag}`, () => explainSandboxBuild(nested, instance, { folder, tag, buildArgs, signal }));
      stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderCacheText(report, paintFor(stdout)));
      return ExitCode.ok;
    }
    if (typeof values.container === 'string') {
      if (positionals.length || values.archive !== undefined || values['docker-host'] !== undefined) {
        throw usageError('--container shows a container of the sandbox; it takes no image, --archive or --docker-host.', `Usage: ${inspectCommand.usage}`);
      }
      const name = values.container;
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$|^[0-9a-f]{12,64}$/.test(name)) {
        throw usageError(`--container "${name}" is not a container name or id.`, 'Give a name from `docker ps` in the sandbox, such as web.');
      }
      const instance = resolveInstance();
      const report = await progress.step(`Reading the container ${name}`, async () =>
        exploreContainer({ host: await connectEngine(), instance, nested: await connectNestedEngine(instance) }, name),
      );
      stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderOverlayText(report, paintFor(stdout)));
      return ExitCode.ok;
    }
    const archive = typeof values.archive === 'string' ? values.archive : undefined;
    const image = positionals[0];
    if (archive && image) throw usageError('Give an image name or --archive FILE, not both.', `Usage: ${inspectCommand.usage}`);
    if (!archive && !image) throw usageError('Which image should be inspected?', 'Name one, for example `course inspect lesson-7`, or give --archive FILE.');
    if (archive && typeof values['docker-host'] === 'string') throw usageError('--docker-host has no meaning with --archive.', 'Leave one of them out.');

    const source = await progress.step(archive ? `Reading ${archive}` : `Reading the image ${image}`, async () => {
      if (archive) return await readImageFromArchive(archive);
      const dockerHost = typeof values['docker-host'] === 'string' ? values['docker-host'] : process.env.DOCKER_HOST || undefined;
      if (dockerHost) return await readImageFromEngine(await connectEngine(dockerHost), image!, { signal });
      // The sandbox's layers are read once: their facts are kept by diffID, as `course check` keeps them.
      const instance = resolveInstance();
      return await readImageFromEngine(await connectNestedEngine(instance), image!, { signal, layerCache: openLayerFactsCache(layerFactsFolder(instance.dataDir)) });
    });
    const report = analyseImage(source);
    stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderInspectText(report, paintFor(stdout)));
    return ExitCode.ok;
  },
};

function parseFormat(value: string | boolean | undefined): Format {
  if (value === undefined) return 'text';
  if (typeof value === 'string' && (formats as readonly string[]).includes(value)) return value as Format;
  throw usageError(`--format ${String(value)} is not an inspect format.`, `Use one of: ${formats.join(', ')}.`);
}

function parseBuildArgs(values: string | boolean | string[] | undefined): Record<string, string> {
  const list = Array.isArray(values) ? values : typeof values === 'string' ? [values] : [];
  const args: Record<string, string> = {};
  for (const item of list) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(item);
    if (!match) throw usageError(`--build-arg "${item}" is not NAME=VALUE.`, 'Write it as --build-arg VERSION=2.');
    args[match[1]!] = match[2]!;
  }
  return args;
}
