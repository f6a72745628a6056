// The import graph of plugin/'s TypeScript sources, type-only imports included (the compiled output loses them).
// `node dist/scripts/import-graph.js` prints it folder by folder and lists any cycle; the architecture test
// checks the same graph for cycles and for arrows that point up.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

const IMPORT = /^\s*(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm

function sourcesUnder (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourcesUnder(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/** Every source file under `folder` (repo-relative, e.g. `plugin`) with the repo-relative files it imports. */
export function importGraph (folder: string): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourcesUnder(join(REPO_ROOT, folder))) {
    const targets: string[] = []
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2]
      if (!specifier.startsWith('.')) continue
      targets.push(relative(REPO_ROOT, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts'))
    }
    graph.set(relative(REPO_ROOT, file), targets)
  }
  return graph
}

/** The import cycles of `graph`, each as the files around it (found by depth-first search). */
export function findCycles (graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  function visit (file: string): void {
    state.set(file, 'open')
    path.push(file)
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open') cycles.push(path.slice(path.indexOf(target)))
      else if (!state.has(target)) visit(target)
    }
    path.pop()
    state.set(file, 'done')
  }
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file)
  return cycles
}

/** `plugin/transports/stdio/stdio-server.ts` → `transports/stdio`: the folder a file belongs to. */
export function folderOf (file: string): string {
  const parts = file.split('/').slice(1, -1)
  return parts.length === 0 ? '(root)' : parts.join('/')
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const graph = importGraph('plugin')
  const edges = new Map<string, Set<string>>()
  for (const [file, targets] of graph) {
    const from = folderOf(file)
    for (const target of targets) {
      const to = folderOf(target)
      if (to !== from) (edges.get(from) ?? edges.set(from, new Set()).get(from))?.add(to)
    }
  }
  for (const [from, to] of [...edges].sort(([a], [b]) => a.localeCompare(b))) process.stdout.write(`${from} -> ${[...to].sort().join(', ')}\n`)
  const cycles = findCycles(graph)
  process.stdout.write(cycles.length === 0 ? `${graph.size} files, no import cycle\n` : cycles.map((cycle) => `cycle: ${cycle.join(' -> ')}\n`).join(''))
  process.exitCode = cycles.length === 0 ? 0 : 1
}
