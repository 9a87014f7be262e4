/**
 * Image efficiency and wasted bytes exactly as dive computes them, so a team's dive CI
 * thresholds (lowestEfficiency, highestWastedBytes, highestUserWastedPercent) carry over.
 *
 * A port of wagoodman/dive `dive/filetree/efficiency.go` (MIT), with the file tree it walks
 * (`file_tree.go`, `file_node.go`) and the sums of `dive/image/analysis.go`. Its quirks are
 * kept on purpose, because matching dive's numbers is the point:
 * - every leaf of a layer's own tree counts (an empty folder too), keyed by its path;
 * - a whiteout of a file counts 0 bytes; a whiteout of a folder counts every byte under that
 *   folder in the layers below, but only when a lower layer listed the folder itself;
 * - opaque folders (`.wh..wh..opq`) are ignored;
 * - a whiteout naming a path the lower layers never had stops the walk of that layer there
 *   and leaves -1 in the minimum sum (dive logs the error and carries on);
 * - `wastedBytes` is the whole cumulative size of every path seen in two layers or more,
 *   the copy that ships at the top included.
 * Names sort as Go's sort.Strings does: by UTF-8 bytes.
 */

/** What the calculation needs of one layer: its tar's entries, its whiteouts and opaque folders. */
export interface EfficiencyLayer {
  entries: ReadonlyArray<{ path: string; type: string; sizeBytes: number }>;
  whiteouts: readonly string[];
  opaqueDirectories: readonly string[];
}

export interface InefficientPath {
  /** With a leading "/", as dive writes it. */
  path: string;
  /** How many layers have a leaf at this path (dive's `count`). */
  count: number;
  /** Bytes summed over those layers (dive's `sizeBytes` in its JSON export). */
  cumulativeBytes: number;
}

export interface DiveEfficiency {
  /** Between 0 and 1: the smallest size of each path over the sum of every copy of it. */
  efficiency: number;
  /** Sum of `cumulativeBytes` over `inefficientPaths`. */
  wastedBytes: number;
  /** Smallest total first, as dive sorts them. */
  inefficientPaths: InefficientPath[];
}

interface FileInfo {
  sizeBytes: number;
  isDirectory: boolean;
}

const noInfo: FileInfo = { sizeBytes: 0, isDirectory: false };
const whiteoutPrefix = '.wh.';
const doubleWhiteoutPrefix = '.wh..wh..';

class TreeNode {
  readonly children = new Map<string, TreeNode>();

  constructor(
    readonly name: string,
    readonly parent: TreeNode | undefined,
    public info: FileInfo,
  ) {}

  get isWhiteout(): boolean {
    return this.name.startsWith(whiteoutPrefix);
  }

  get isLeaf(): boolean {
    return this.children.size === 0;
  }

  /** dive's FileNode.Path: the node's own ".wh." prefix is dropped. */
  path(): string {
    const names: string[] = [];
    for (let node: TreeNode | undefined = this; node?.parent; node = node.parent) {
      names.unshift(node === this ? node.name.replace(/^\.wh\./, '') : node.name);
    }
    return `/${names.join('/')}`.replace(/\/\//g, '/');
  }

  copy(parent: TreeNode | undefined): TreeNode {
    const copied = new TreeNode(this.name, parent, this.info);
    for (const [name, child] of this.children) copied.children.set(name, child.copy(copied));
    return copied;
  }

  /** Children first, in name order; `visit` returning false stops the whole walk (dive's error). */
  visitChildrenFirst(visit: (node: TreeNode) => boolean, shouldVisit?: (node: TreeNode) => boolean): boolean {
    for (const name of sortedNames(this.children)) {
      if (!this.children.get(name)!.visitChildrenFirst(visit, shouldVisit)) return false;
    }
    if (!this.parent) return true; // the root is never visited
    if (shouldVisit && !shouldVisit(this)) return true;
    return visit(this);
  }
}

/**
 * Go's order: by UTF-8 bytes. UTF-16 units sort the same way except that surrogates
 * (U+D800-DFFF, the halves of characters above U+FFFF) must come after U+E000-FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const unitA = a.charCodeAt(index);
    const unitB = b.charCodeAt(index);
    if (unitA !== unitB) return utf8Rank(unitA) - utf8Rank(unitB);
  }
  return a.length - b.length;
}

function utf8Rank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

function sortedNames(children: ReadonlyMap<string, TreeNode>): string[] {
  return [...children.keys()].sort(compareUtf8);
}

function splitPath(filePath: string): string[] {
  return filePath.split('/').filter((name) => name !== '' && name !== '.');
}

class FileTree {
  constructor(readonly root: TreeNode = new TreeNode('', undefined, noInfo)) {}

  /** dive's AddPath: missing parents get an empty payload; the end node always takes `info`. */
  addPath(filePath: string, info: FileInfo): void {
    const names = splitPath(filePath);
    let node = this.root;
    for (const [index, name] of names.entries()) {
      let child = node.children.get(name);
      if (!child) {
        // "don't add paths that should be deleted": opaque markers and aufs bookkeeping.
        if (name.startsWith(doubleWhiteoutPrefix)) return;
        child = new TreeNode(name, node, noInfo);
        node.children.set(name, child);
      }
      node = child;
      if (index === names.length - 1) node.info = info;
    }
  }

  getNode(filePath: string): TreeNode | undefined {
    let node = this.root;
    for (const name of splitPath(filePath)) {
      const child = node.children.get(name);
      if (!child) return undefined;
      node = child;
    }
    return node;
  }

  removePath(filePath: string): void {
    const node = this.getNode(filePath);
    if (node?.parent) node.parent.children.delete(node.name);
  }

  copy(): FileTree {
    return new FileTree(this.root.copy(undefined));
  }

  /** dive's Stack: whiteouts remove, everything else is added over (opaque folders are not honoured). */
  stack(upper: FileTree): void {
    upper.root.visitChildrenFirst((node) => {
      if (node.isWhiteout) this.removePath(node.path());
      else this.addPath(node.path(), node.info);
      return true;
    });
  }
}

function treeOf(layer: EfficiencyLayer): FileTree {
  const tree = new FileTree();
  for (const entry of layer.entries) {
    // dive sizes an entry by its tar header, which is 0 for anything but a regular file.
    tree.addPath(entry.path, { sizeBytes: entry.type === 'file' ? entry.sizeBytes : 0, isDirectory: entry.type === 'directory' });
  }
  for (const whiteout of layer.whiteouts) {
    const names = splitPath(whiteout);
    const name = names.pop();
    if (name !== undefined) tree.addPath([...names, `${whiteoutPrefix}${name}`].join('/'), noInfo);
  }
  for (const directory of layer.opaqueDirectories) tree.addPath(`${directory}/${doubleWhiteoutPrefix}opq`, noInfo);
  return tree;
}

interface PathTally {
  path: string;
  count: number;
  cumulativeBytes: number;
  minimumBytes: number;
}

export function diveEfficiency(layers: readonly EfficiencyLayer[]): DiveEfficiency {
  const trees = layers.map(treeOf);
  const tallies = new Map<string, PathTally>();
  const inefficient: PathTally[] = [];
  // dive stacks layers 0..n-1 afresh for every whiteout in layer n; the result is the same
  // for every whiteout of one layer, so it is built once per layer, incrementally.
  let stacked = trees[0]?.copy();

  trees.forEach((tree, current) => {
    if (current >= 1) stacked!.stack(trees[current - 1]!);
    tree.root.visitChildrenFirst(
      (node) => {
        const filePath = node.path();
        let tally = tallies.get(filePath);
        if (!tally) {
          tally = { path: filePath, count: 0, cumulativeBytes: 0, minimumBytes: -1 };
          tallies.set(filePath, tally);
        }
        let sizeBytes = 0;
        if (node.isWhiteout) {
          const below = stacked!.getNode(filePath);
          if (!below) return false; // dive: "path does not exist", the layer's walk ends here
          if (below.info.isDirectory) {
            below.visitChildrenFirst((inner) => {
              sizeBytes += inner.info.sizeBytes;
              return true;
            });
          }
        } else {
          sizeBytes = node.info.sizeBytes;
        }
        tally.cumulativeBytes += sizeBytes;
        if (tally.minimumBytes < 0 || sizeBytes < tally.minimumBytes) tally.minimumBytes = sizeBytes;
        tally.count++;
        if (tally.count === 2) inefficient.push(tally);
        return true;
      },
      (node) => node.isLeaf,
    );
  });

  let minimumSum = 0;
  let discoveredSum = 0;
  for (const tally of tallies.values()) {
    minimumSum += tally.minimumBytes;
    discoveredSum += tally.cumulativeBytes;
  }
  // Go's sort.Sort is not stable; ties keep the order they were found in here.
  const sorted = inefficient.map((tally, order) => ({ tally, order })).sort((a, b) => a.tally.cumulativeBytes - b.tally.cumulativeBytes || a.order - b.order);
  return {
    efficiency: discoveredSum === 0 ? 1 : minimumSum / discoveredSum,
    wastedBytes: inefficient.reduce((sum, tally) => sum + tally.cumulativeBytes, 0),
    inefficientPaths: sorted.map(({ tally }) => ({ path: tally.path, count: tally.count, cumulativeBytes: tally.cumulativeBytes })),
  };
}
