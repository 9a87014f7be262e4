import type { z } from 'zod';
import type { ArchiveLayout, CheckStatus, EvidenceGroup } from '../contract/check.js';

// The run's result is part of the runner–page contract; defined there, used here.
export type { ArchiveLayout, CheckResult, CheckRun, CheckStatus, EvidenceGroup, LayerSummary } from '../contract/check.js';

/**
 * Facts, then judgement: the grader gathers one `ImageFacts` per image (Engine API, the
 * image archive, probes such as "does it answer HTTP"), then pure check kinds judge it.
 */
export interface ImageFacts {
  /** What was asked for, e.g. "lesson-7". */
  ref: string;
  /** The image id the engine resolved `ref` to. */
  id: string;
  /** The engine's size of the image (`docker image inspect` .Size). */
  sizeBytes: number;
  /** When the image was built, as the engine reports it. */
  created?: string;
  config: ImageConfigFacts;
  /** Bottom to top, one per entry of RootFS.Layers. */
  layers: LayerFacts[];
  /** Every build tool found in any layer, also those a later layer hides. */
  buildTools: BuildToolFinding[];
  /** The filesystem a container sees: every layer applied in order, whiteouts honoured. */
  files: ReadonlyMap<string, FileFacts>;
  /** Which `docker save` layout the engine wrote; none for an image without layers, which no engine saves. */
  archiveLayout?: ArchiveLayout;
  /** Every row of the config's history, bottom to top, the rows that made no layer included. */
  history: HistoryRowFacts[];
  /** /etc/ld.so.cache, read when a check asked for it (see facts/shared-libraries.ts). */
  loaderCache?: LoaderCacheFacts;
  probes: ProbeResults;
}

/** The dynamic loader's cache: soname → paths, in the cache's order. */
export type LoaderCacheFacts = { state: 'absent' } | { state: 'unreadable'; why: string } | { state: 'read'; libraries: ReadonlyMap<string, string[]> };

/** One row of the image config's history: one Dockerfile instruction, as the builder wrote it. */
export interface HistoryRowFacts {
  createdBy: string;
  /** ENV, CMD, EXPOSE...: the row changed the config only and made no layer. */
  isEmptyLayer: boolean;
  comment?: string;
}


export interface ImageConfigFacts {
  user: string;
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: string[];
  exposedPorts: string[];
  workingDir: string;
  labels: Record<string, string>;
}

export interface LayerFacts {
  /** 0 for the bottom layer. */
  index: number;
  diffId: string;
  /** Bytes of file content in the layer (what `docker history` shows, near enough). */
  sizeBytes: number;
  /** Entries in the layer's tar, whiteouts included. */
  entryCount: number;
  /** The history row that made it, as the builder wrote it. */
  createdBy?: string;
  /** The same, shortened to the Dockerfile instruction ("RUN go build ..."). */
  instruction?: string;
  compression: LayerCompression;
  /** Set when the layer could not be read; checks that need file contents then say so. */
  unreadable?: string;
  /** Paths of build tools this layer adds (see ImageFacts.buildTools). */
  addedBuildTools: string[];
  /**
   * What the layer's tar holds, whiteouts apart: every path it writes, also those a later
   * layer deletes (the bytes ship all the same). Bounded by the tar reader's entry limit.
   */
  entries: readonly LayerEntryFacts[];
  /** Paths this layer deletes from the layers below it (`.wh.<name>` files). */
  whiteouts: readonly string[];
  /** Directories whose contents from the layers below this layer hides (`.wh..wh..opq`). */
  opaqueDirectories: readonly string[];
}

/** One entry of a layer's tar; paths are relative to the root, without a leading "/". */
export interface LayerEntryFacts {
  path: string;
  type: FileType;
  sizeBytes: number;
  /**
   * The permission bits, setuid, setgid and sticky included (mode & 0o7777). The tar reader
   * always records them; optional for facts built by hand.
   */
  mode?: number;
}

export type LayerCompression = 'none' | 'gzip' | 'zstd';

export type FileType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/**
 * An engine's layers as folders (overlay2 keeps each layer's files in a `diff` folder), read
 * directly instead of streaming all of `docker save`: a layer already known (layer cache)
 * costs nothing, and one that is not streams only its own files. The caller provides it where
 * it can reach the folders (the sandbox, for its nested engine); the grader falls back to
 * `docker save` for any image or layer it says nothing about.
 */
export interface LayerFolders {
  /** The image's config JSON exactly as the engine stores it; undefined when it is not there (another image store). */
  readConfig(imageId: string): Promise<string | undefined>;
  /**
   * The topmost of `diffIds` (the layer and every layer below it, bottom first, which name it
   * in the engine's layer database) as a tar of its folder, in overlay2's own form: a deleted
   * path is a character device 0/0, an opaque folder carries the xattr overlay.opaque=y
   * (a pax `SCHILY.xattr.trusted.overlay.opaque` or `…user.overlay.opaque` record).
   * Undefined when the folder is not there.
   *
   * Only the bytes facts read need to come whole: a program's (any execute bit, or ELF), the
   * paths in `keepContentOf` (relative, as the reader names them) and small hard-linked
   * files'. Of any other file the tar may hold just the first 4 KiB, the real size in a pax
   * record `LAYERLAB.size` (facts/layer-tar.ts reads it so).
   */
  readLayer(diffIds: readonly string[], signal?: AbortSignal, keepContentOf?: ReadonlySet<string>): Promise<LayerFolderRead | undefined>;
  /** What `docker save` on this engine writes, reported as the image's archive layout. */
  layout: ArchiveLayout;
}

export interface LayerFolderRead {
  chunks: AsyncIterable<Buffer>;
  /** Called once the chunks have ended: rejects when the read failed part way (the tar is then incomplete). */
  finished(): Promise<void>;
}

/** One path of the merged view. */
export interface FileFacts {
  path: string;
  type: FileType;
  sizeBytes: number;
  /** The permission bits, setuid, setgid and sticky included (mode & 0o7777). */
  mode: number;
  /** Symlink target as written in the tar; for a hard link whose target was not found, that path. */
  linkTarget?: string;
  /**
   * For a hard link: the path it shares an inode with (root-relative). Such a path is a
   * regular file with its target's facts (type, size, identity), as a container sees it.
   */
  hardLinkTo?: string;
  /** Index of the layer this version of the path comes from. */
  layer: number;
  /** What the content is, for files we looked into (executables). */
  identity?: FileIdentity;
  /**
   * The file's bytes: kept only for paths a check asked for (ProbeNeeds.fileContents) and
   * only when the file is at most `maxKeptFileBytes`, so memory stays bounded.
   */
  content?: Buffer;
}

/** What a file's bytes say it is. Only executables are looked into. */
export type FileIdentity =
  | { kind: 'build-tool'; family: BuildToolFamily; tool: string; evidence: string }
  | { kind: 'go-program'; mainPath: string; interpreter?: string; linking?: ElfLinking }
  | { kind: 'busybox' }
  | { kind: 'elf'; interpreter?: string; linking?: ElfLinking }
  | { kind: 'script'; interpreter: string };

/** How a program is linked, as its dynamic section says (facts/elf.ts reads it). */
export type ElfLinking =
  /** No dynamic section: everything is in the file; it needs no loader and no library. */
  | { kind: 'static' }
  | {
      kind: 'dynamic';
      /** DT_NEEDED, in order: the libraries the program asks for by soname. */
      needed: string[];
      /** DT_RPATH and DT_RUNPATH, split on ":"; `$ORIGIN` is left for the judge to expand. */
      rpath: string[];
      runpath: string[];
    }
  /** The bytes did not say (cut short, or laid out where a streaming read cannot follow). */
  | { kind: 'unknown'; why: string };

/** The build tools lesson 7 asks about, by family. */
export const buildToolFamilies = ['go', 'c-compiler', 'make', 'git'] as const;
export type BuildToolFamily = (typeof buildToolFamilies)[number];

export const buildToolFamilyNames: Record<BuildToolFamily, string> = {
  go: 'the Go toolchain',
  'c-compiler': 'the C compiler (gcc)',
  make: 'make',
  git: 'git',
};

export interface BuildToolFinding {
  family: BuildToolFamily;
  /** Short name of the tool: "go", "compile", "gcc", "cc1", "make", "git". */
  tool: string;
  path: string;
  /** How we know: "Go build info says cmd/compile", "named gcc". */
  evidence: string;
  /** The layer whose tar holds the file. */
  addedInLayer: number;
  /** The later layer that deletes or replaces it; the bytes still ship in `addedInLayer`. */
  hiddenInLayer?: number;
  hiddenBy?: 'whiteout' | 'opaque-directory' | 'replaced';
  /** Other paths that lead to it in the merged view (symlinks, hard links). */
  aliases: string[];
}

/** An image a check compares against, as the engine has it (or does not). */
export type ReferenceImageFacts =
  | { ref: string; isPresent: true; id: string; /** RootFS.Layers, bottom to top. */ diffIds: string[] }
  | { ref: string; isPresent: false };

/** Files bigger than this are never kept in memory for content checks. */
export const maxKeptFileBytes = 64 * 1024;

/** Probes run while gathering, never inside an evaluator. */
export interface ProbeResults {
  http?: HttpProbeResult;
  /** Other images on the same engine that checks compare against, keyed by the ref asked for. */
  referenceImages?: Record<string, ReferenceImageFacts>;
  /** Containers run to completion, one per request (see facts/run-probe.ts). */
  runs?: RunProbeResult[];
  /** The learner's project rebuilt twice, as it is and after a source-only change (facts/rebuild-probe.ts). */
  rebuild?: RebuildProbeResult;
  /** One path looked up in every layer of another image (facts/reference-files.ts). */
  referenceFiles?: ReferenceFileFacts[];
  /** The exercise's folder rebuilt with every file that holds a value changed (facts/context-change.ts). */
  contextChange?: ContextChangeFacts;
  /** The exercise folder's Dockerfile, for what the image cannot tell (facts/dockerfile.ts). */
  dockerfile?: DockerfileFacts;
}

/**
 * The exercise folder's Dockerfile as BuildKit's Dockerfile frontend reads its FROM lines:
 * the final stage's base, followed through stage names to the image it names.
 */
export type DockerfileFacts =
  | {
      outcome: 'read';
      path: string;
      finalBase: DockerfileBase;
      copiedStageRuns?: StageRunFacts[];
      /** The folder's scripts (`*.sh`, or a `#!` line), small ones only, which a RUN may run: a pipe there hides a failure as well. */
      scripts?: Array<{ path: string; text: string }>;
    }
  /** The caller gave no folder (a CI run without --exercise-folder). */
  | { outcome: 'not-given' }
  | { outcome: 'unreadable'; reason: string };

/** A RUN of a build stage the image takes files from, which the image's history does not record (facts/dockerfile-stages.ts). */
export interface StageRunFacts {
  /** The stage's name after AS, or its index. */
  stage: string;
  /** Its line in the Dockerfile, from 1. */
  line: number;
  /** The RUN as a history row would record it, its shell and options included. */
  createdBy: string;
}

export interface DockerfileBase {
  /** The FROM lines followed, as written, the final stage's first (`FROM app`, then `FROM $BASE AS app`). */
  fromLines: string[];
  /** The image the last of them names, global build arguments' defaults filled in; empty when the Dockerfile has no FROM. */
  reference: string;
  /** The digest the reference pins the image by (`sha256:` and 64 hex digits), when it has one. */
  digest?: string;
  /** Set when the reference still holds a build argument with no default (`FROM $BASE`, `ARG BASE`). */
  hasUnsetArgument?: boolean;
}

/**
 * Whether an image gets a value from its build context: the exercise's folder is rebuilt
 * with every file that holds the value (or a long piece of it), or whose own SHA-256 is the
 * value (the data a checksum is of), changed; then `path` is read from the image that makes.
 * A build that computes the value still holds it; one that copied it in (COPY, ADD, a
 * `RUN --mount=type=bind`, whatever moved it after) no longer does.
 */
export interface ContextChangeRequest {
  value: string;
  /** Runs of at least this many characters of `value` count as holding it. */
  pieceCharacters: number;
  /** Absolute path of the file that holds the value in the image. */
  path: string;
  withinMs: number;
}

export type ContextChangeFacts = ContextChangeRequest &
  (
    /** The caller gave no folder (a CI run without --exercise-folder). */
    | { outcome: 'not-given' }
    | { outcome: 'unreadable'; reason: string }
    /** No file of the folder holds the value: nothing to rebuild. */
    | { outcome: 'no-holder' }
    /** `holders` are folder paths, each with how it holds the value. */
    | { outcome: 'rebuilt'; holders: ContextHolder[]; file: { state: 'absent' } | { state: 'not-a-file'; type: string } | { state: 'read'; holdsValue: boolean } }
    | { outcome: 'build-failed'; holders: ContextHolder[]; error: string }
    | { outcome: 'timed-out'; holders: ContextHolder[] }
  );

export interface ContextHolder {
  path: string;
  /** `text`: the value or a long piece is in the file; `checksum`: the file's SHA-256 is the value. */
  holds: 'text' | 'checksum';
}

/**
 * Rebuild the exercise's folder with the engine's BuildKit, as it is and then with
 * `sourceFile` changed (a comment appended), and keep the builder's own report of which
 * steps it took from the cache.
 */
export interface RebuildProbeRequest {
  /** Relative to the folder, e.g. "main.go". */
  sourceFile: string;
  /** Both builds together. */
  withinMs: number;
}

/**
 * Where an exercise's project is, for checks that rebuild it: a folder on the engine's host
 * (the sandbox's ~/exercises/<id>, read through the engine), or a folder on this machine
 * (a CI checkout, read directly and sent to the engine as the build context).
 */
export type ExerciseFolder = { where: 'engine-host' | 'here'; path: string };

/** One step as BuildKit reports it, e.g. "[3/6] RUN go build -v example.com/textstats". */
export interface BuildStepFacts {
  name: string;
  isCached: boolean;
}

export type RebuildProbeResult = RebuildProbeRequest & { folder: string } & (
    | { outcome: 'rebuilt'; asIs: BuildStepFacts[]; afterChange: BuildStepFacts[] }
    | { outcome: 'no-folder'; reason: string }
    /** The caller gave no folder (a CI run without --exercise-folder). */
    | { outcome: 'not-given' }
    | { outcome: 'no-source-file' }
    | { outcome: 'build-failed'; build: 'as-is' | 'after-change'; error: string }
    | { outcome: 'timed-out'; build: 'as-is' | 'after-change' }
  );

export interface ReferenceFileRequest {
  image: string;
  /** Absolute path, e.g. /vault/recovery-code.txt. */
  path: string;
}

/** Where one path appears in another image's layers, and whether a container would see it. */
export type ReferenceFileFacts = ReferenceFileRequest &
  (
    | { isImagePresent: false }
    | {
        isImagePresent: true;
        layerCount: number;
        /** The instruction that made each layer, bottom to top, whole (see history.ts instructionOf). */
        layerInstructions: Array<string | undefined>;
        /** Every layer whose tar holds the path, bottom to top; content kept for small regular files. */
        versions: Array<{
          layer: number;
          instruction?: string;
          type: FileType;
          sizeBytes: number;
          content?: Buffer;
          /** That layer's DiffID: an image that has the same layer ships it, whatever it was built from. */
          diffId: string;
          /** Everything else that layer's tar writes besides folders (paths root-relative), to know the layer again if it is unpacked elsewhere. */
          layerFiles: LayerEntryFacts[];
        }>;
        /** The path is in the image's merged view: a container would see it. */
        isVisible: boolean;
      }
  );

/** Run the image as a command: `docker run --rm IMAGE [args...]`, no network, time-boxed. */
export interface RunProbeRequest {
  /** Replaces the image's CMD, as arguments to `docker run` do; absent: the image's own CMD. */
  args?: string[];
  withinMs: number;
}

export type RunProbeResult = RunProbeRequest &
  (
    | { outcome: 'exited'; exitCode: number; stdout: string; stderr: string; afterMs: number }
    | { outcome: 'timed-out'; stdout: string; stderr: string }
    | { outcome: 'not-started'; reason: string }
  );

export interface HttpProbeRequest {
  port: number;
  /** Asked in order: the first until something answers (or `withinMs` passes), then each of the rest once. */
  paths: string[];
  withinMs: number;
}

/** One HTTP exchange: what came back for a path, or why nothing did. */
export type HttpAnswer = { path: string } & ({ statusCode: number; bodyStart: string } | { error: string });

export type HttpProbeResult = HttpProbeRequest &
  (
    | {
        outcome: 'answered';
        /** One per path, in order. */
        answers: HttpAnswer[];
        afterMs: number;
        /** The container's processes once it had answered, each command line as `docker top` shows it; absent when the engine did not say. */
        processes?: string[];
      }
    | { outcome: 'exited'; exitCode: number; logTail: string; afterMs: number }
    | { outcome: 'timed-out'; logTail: string; lastError: string }
    | { outcome: 'not-started'; reason: string }
  );

export type CheckOutcome =
  | { status: 'pass'; expected: string; actual: string; message?: string }
  | { status: 'fail'; expected: string; actual: string; message: string; evidence?: EvidenceGroup[] }
  | { status: 'skip'; expected: string; actual: string; message: string };

/** What facts a check needs gathered before it can be judged. */
export interface ProbeNeeds {
  http?: HttpProbeRequest;
  /** Refs of other images to inspect, e.g. the base an exercise must build on. */
  referenceImages?: string[];
  /** Absolute paths whose bytes the archive reader keeps (small files only). */
  fileContents?: string[];
  /** Containers to run to completion and read the output of. */
  runs?: RunProbeRequest[];
  /** Rebuild the exercise's folder before and after a source-only change. */
  rebuild?: RebuildProbeRequest;
  /** Paths to look up in every layer of other images. */
  referenceFiles?: ReferenceFileRequest[];
  /** Rebuild the exercise's folder with the files that hold a value changed. */
  contextChange?: ContextChangeRequest;
  /** Read the exercise folder's Dockerfile (how its FROM lines name the base). */
  dockerfile?: boolean;
}

/** One kind of check: its parameters' schema and a pure evaluator. */
export interface CheckKind<P extends z.ZodTypeAny> {
  /** One line for documentation. */
  summary: string;
  params: P;
  probes?(params: z.infer<P>): ProbeNeeds;
  /** Pure: no I/O, no clock. */
  evaluate(facts: ImageFacts, params: z.infer<P>): CheckOutcome;
}
