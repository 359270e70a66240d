/**
 * The step tree: the steps as they ran, parallel members side by side and nested groups inside
 * the member that ran them. The text view and both graphs draw this one tree, so they always
 * agree on the structure.
 */
import type { StepStatus } from '../../schemas/saga';

/**
 * A node of the step tree: a step, a parallel group with its members, or the pivot (top level
 * only). Ids are safe node names for Mermaid and dot (`s0`, `g0`, `pivot`), numbered in the
 * order the tree is drawn.
 */
export type StepNode =
  | { kind: 'step'; id: string; step: StepStatus }
  | { kind: 'group'; id: string; name: string; members: TreeMember[] }
  | { kind: 'pivot'; id: 'pivot' };

/** What one member of a parallel group ran, in order; `index` is its place in the group. */
export interface TreeMember {
  index: number;
  nodes: StepNode[];
}

/**
 * The steps as they ran, from each step's `branch`: one member's steps in sequence, a group's
 * members side by side (by index), nested groups inside the member that ran them. With
 * `pivoted`, the pivot goes before the first top-level node that started after it, else last.
 * The text view and both graphs draw this one tree.
 */
export function stepTree(steps: readonly StepStatus[], pivoted: boolean): StepNode[] {
  const root: StepNode[] = [];
  for (const step of steps) {
    let nodes = root;
    for (const { group, member } of step.branch) nodes = memberOf(groupIn(nodes, group), member).nodes;
    nodes.push({ kind: 'step', id: '', step });
  }
  if (pivoted) {
    const after = root.findIndex((node) => firstStep(node)?.afterPivot === true);
    root.splice(after === -1 ? root.length : after, 0, { kind: 'pivot', id: 'pivot' });
  }
  numberNodes(root, { steps: 0, groups: 0 });
  return root;
}

/**
 * The group `name` that `nodes` is running. Steps are listed in the order they started, members
 * interleaved; but one member runs its steps in sequence, so its group is always its last node.
 */
function groupIn(nodes: StepNode[], name: string): Extract<StepNode, { kind: 'group' }> {
  const last = nodes.at(-1);
  if (last?.kind === 'group' && last.name === name) return last;
  const group: StepNode = { kind: 'group', id: '', name, members: [] };
  nodes.push(group);
  return group;
}

function memberOf(group: Extract<StepNode, { kind: 'group' }>, index: number): TreeMember {
  let member = group.members.find((m) => m.index === index);
  if (!member) {
    member = { index, nodes: [] };
    group.members.push(member);
    group.members.sort((a, b) => a.index - b.index);
  }
  return member;
}

function firstStep(node: StepNode | undefined): StepStatus | undefined {
  if (node?.kind === 'step') return node.step;
  if (node?.kind === 'group') return firstStep(node.members[0]?.nodes[0]);
  return undefined;
}

function numberNodes(nodes: readonly StepNode[], next: { steps: number; groups: number }): void {
  for (const node of nodes) {
    if (node.kind === 'step') node.id = `s${next.steps++}`;
    else if (node.kind === 'group') {
      node.id = `g${next.groups++}`;
      for (const member of node.members) numberNodes(member.nodes, next);
    }
  }
}

/** What a renderer does at each place of the tree; `depth` counts the boxes around it. */
export interface TreeVisitor {
  step(step: StepStatus, id: string, depth: number): void;
  pivot(depth: number): void;
  /** A box: a parallel group, or a member that runs several steps in sequence. */
  open(id: string, label: string, depth: number): void;
  close(depth: number): void;
}

/**
 * Visits the tree in drawing order. A member gets a box of its own only when it runs several
 * things in sequence: a one-step member is plain enough inside its group's box.
 */
export function walkTree(nodes: readonly StepNode[], visit: TreeVisitor, depth = 0): void {
  for (const node of nodes) {
    if (node.kind === 'step') visit.step(node.step, node.id, depth);
    else if (node.kind === 'pivot') visit.pivot(depth);
    else {
      visit.open(node.id, `${node.name} (parallel)`, depth);
      for (const member of node.members) {
        if (member.nodes.length === 1) walkTree(member.nodes, visit, depth + 1);
        else {
          visit.open(`${node.id}m${member.index}`, `${node.name} ▸ member ${member.index}`, depth + 1);
          walkTree(member.nodes, visit, depth + 2);
          visit.close(depth + 1);
        }
      }
      visit.close(depth);
    }
  }
}

/**
 * The edges of the tree, in the order things ran: consecutive nodes of a sequence are joined
 * from every exit of one to every entry of the next, so a group forks to the first step of
 * each member and joins from the last.
 */
export function treeEdges(nodes: readonly StepNode[]): [string, string][] {
  const out: [string, string][] = [];
  nodes.forEach((node, i) => {
    if (node.kind === 'group') for (const member of node.members) out.push(...treeEdges(member.nodes));
    for (const from of ends(node, 'exits')) for (const to of ends(nodes[i + 1], 'entries')) out.push([from, to]);
  });
  return out;
}

function ends(node: StepNode | undefined, side: 'entries' | 'exits'): string[] {
  if (node === undefined) return [];
  if (node.kind !== 'group') return [node.id];
  return node.members.flatMap((m) => ends(side === 'entries' ? m.nodes[0] : m.nodes.at(-1), side));
}
