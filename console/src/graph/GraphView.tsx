// The workflow as a graph, derived from the document and laid out automatically; clicking
// a node selects its step. Problems and run statuses colour the nodes.
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import { memo, useMemo } from 'react';
import type { Graph, GraphNode } from '../types';
import { layout } from './layout';

const KIND_LABEL: Record<string, string> = {
  trigger: 'Trigger',
  action: 'Action',
  condition: 'If',
  join: '',
  for_each: 'For each',
  parallel: 'Parallel',
  workflow: 'Sub-workflow',
  connector: 'Connector',
};

type StepData = { node: GraphNode; problems: number; status?: string; selected: boolean };
type GroupData = { label: string; kind: string };

const StepNode = memo(function StepNode({ data }: NodeProps<Node<StepData>>) {
  const { node, problems, status, selected } = data;
  if (node.kind === 'join') {
    return (
      <div className="gnode-join" title="branches meet">
        <Handle type="target" position={Position.Top} />
        <Handle type="source" position={Position.Bottom} />
      </div>
    );
  }
  const cls = ['gnode', `gnode-${node.kind}`, problems ? 'gnode-problem' : '', status ? `gnode-status-${status}` : '', selected ? 'gnode-selected' : ''].join(' ');
  return (
    <div className={cls} data-node={node.id} data-step={node.step_id ?? ''} data-testid={`node-${node.step_id ?? node.id}`}>
      {node.kind !== 'trigger' && <Handle type="target" position={Position.Top} />}
      <div className="gnode-head">
        <span className="gnode-kind">{KIND_LABEL[node.kind]}</span>
        {problems > 0 && <span className="gnode-problems">{problems} problem{problems > 1 ? 's' : ''}</span>}
        {status && <span className={`status status-${status}`}>{status.replace(/_/g, ' ')}</span>}
      </div>
      <div className="gnode-label">{node.label}</div>
      <div className="gnode-detail">{node.detail}</div>
      {node.badges && node.badges.length > 0 && (
        <div className="gnode-badges">
          {node.badges.map((b) => (
            <span key={b} className="badge">
              {b}
            </span>
          ))}
        </div>
      )}
      <Handle type="source" position={Position.Bottom} />
    </div>
  );
});

function GroupNode({ data }: NodeProps<Node<GroupData>>) {
  return (
    <div className={`ggroup ggroup-${data.kind}`}>
      <div className="ggroup-label">{data.label}</div>
    </div>
  );
}

const nodeTypes = { step: StepNode, group: GroupNode };

export interface GraphViewProps {
  graph: Graph;
  /** Problems per node id. */
  problems?: Map<string, number>;
  /** Run status per step id. */
  statuses?: Map<string, string>;
  selected?: string | null;
  onSelect?: (id: string | null) => void;
}

export function GraphView({ graph, problems, statuses, selected, onSelect }: GraphViewProps) {
  const laid = useMemo(() => layout(graph), [graph]);
  const nodes = useMemo<Node[]>(() => {
    const out: Node[] = [];
    // Outer groups first, so inner ones draw above them.
    const depth = (id: string): number => {
      const g = graph.groups.find((x) => x.id === id);
      return g?.parent ? 1 + depth(g.parent) : 0;
    };
    const groups = [...graph.groups].sort((a, b) => depth(a.id) - depth(b.id));
    for (const g of groups) {
      const b = laid.groups.get(g.id)!;
      out.push({
        id: g.id,
        type: 'group',
        position: { x: b.x, y: b.y },
        data: { label: g.label, kind: g.kind },
        // Dimensions given, not left to measuring: React Flow hides a node until it has
        // them, and a node whose measurement never arrived stayed hidden.
        width: b.width,
        height: b.height,
        style: { width: b.width, height: b.height },
        selectable: false,
        draggable: false,
        zIndex: depth(g.id) - 10,
      });
    }
    for (const n of graph.nodes) {
      const b = laid.nodes.get(n.id)!;
      out.push({
        id: n.id,
        type: 'step',
        position: { x: b.x, y: b.y },
        data: { node: n, problems: problems?.get(n.id) ?? 0, status: n.step_id ? statuses?.get(n.step_id) : undefined, selected: selected === n.id },
        width: b.width,
        height: b.height,
        style: { width: b.width, height: b.height },
        draggable: false,
        zIndex: 10,
      });
    }
    return out;
  }, [graph, laid, problems, statuses, selected]);
  const edges = useMemo<Edge[]>(
    () =>
      graph.edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        label: e.label,
        type: 'smoothstep',
        className: e.label === 'on error' ? 'gedge-error' : undefined,
        zIndex: 5,
      })),
    [graph],
  );
  return (
    <div className="graph" data-testid="graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable
        fitView
        fitViewOptions={{ padding: 0.1, maxZoom: 1 }}
        minZoom={0.2}
        onNodeClick={(_, n) => n.type === 'step' && onSelect?.(n.id)}
        onPaneClick={() => onSelect?.(null)}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
