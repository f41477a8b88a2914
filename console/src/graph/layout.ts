// Lays out the server's graph (/api/v1/graph) with dagre: top to bottom, groups as compound
// nodes around their steps. Nothing is positioned by hand: the layout is a function of the
// document.
import dagre from '@dagrejs/dagre';
import type { Graph, GraphNode } from '../types';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  nodes: Map<string, Box>;
  groups: Map<string, Box>;
  width: number;
  height: number;
}

export function nodeSize(n: GraphNode): { width: number; height: number } {
  if (n.kind === 'join') return { width: 18, height: 18 };
  if (n.kind === 'trigger') return { width: 240, height: 62 };
  return { width: 240, height: n.badges && n.badges.length > 0 ? 78 : 62 };
}

export function layout(graph: Graph): Layout {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 36, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const group of graph.groups) g.setNode(group.id, { label: group.label, paddingTop: 28, paddingBottom: 12, paddingLeft: 12, paddingRight: 12 });
  for (const group of graph.groups) if (group.parent) g.setParent(group.id, group.parent);
  for (const n of graph.nodes) {
    g.setNode(n.id, nodeSize(n));
    if (n.group) g.setParent(n.id, n.group);
  }
  for (const e of graph.edges) g.setEdge(e.source, e.target, { label: e.label ?? '', width: e.label ? 60 : 0, height: e.label ? 16 : 0 }, e.id);
  dagre.layout(g);
  const box = (id: string): Box => {
    const v = g.node(id) as { x: number; y: number; width: number; height: number };
    return { x: v.x - v.width / 2, y: v.y - v.height / 2, width: v.width, height: v.height };
  };
  const nodes = new Map(graph.nodes.map((n) => [n.id, box(n.id)]));
  const groups = new Map(graph.groups.map((x) => [x.id, box(x.id)]));
  const label = g.graph() as { width?: number; height?: number };
  return { nodes, groups, width: label.width ?? 0, height: label.height ?? 0 };
}
