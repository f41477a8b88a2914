//! The graph of a workflow, derived from its steps: what the console's builder draws and
//! lays out (it never positions anything by hand, so the document stays the one truth).
//!
//! Shape: the trigger comes first; steps follow in order; an `if` is a condition node
//! whose `then` and `else` branches meet again at a join node; a `for_each` and a
//! `parallel` are groups holding a header node and their steps (a `parallel`'s branches
//! meet at a join inside the group); an `on_error` handler is a group hanging off its
//! step; sub-workflow and connector steps are nodes of their own kinds.
//!
//! Node ids are the step's path in the document (`steps.2.then.0`), so a node, a
//! validation problem and a range of the YAML text can be matched to each other.

use serde::Serialize;

use super::model::{OnErrorDoc, StepDoc, Trigger, WorkflowDoc};

/// One segment of a path into the document: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Seg {
    Key(&'static str),
    Index(usize),
}

/// A path into the document, e.g. `["steps", 2, "then", 0]`.
pub type DocPath = Vec<Seg>;

/// A node id from a document path: `steps.2.then.0`.
pub fn path_id(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => (*k).to_owned(),
            Seg::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Trigger,
    /// A `uses:` step (an action, or a connector plugin used as one).
    Action,
    /// An `if` step's condition.
    Condition,
    /// Where an `if`'s branches, or a `parallel`'s, meet again.
    Join,
    /// The head of a `for_each` group.
    ForEach,
    /// The head of a `parallel` group.
    Parallel,
    /// A sub-workflow call.
    Workflow,
    /// An External App Connector call.
    Connector,
}

/// What a group holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    ForEach,
    Parallel,
    OnError,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    /// The step's name, or its id.
    pub label: String,
    /// What it does: the plugin, the call, the list, the sub-workflow.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
    /// The step's place in the document (empty for the trigger and joins).
    pub path: DocPath,
    /// The innermost group holding the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Badges: `when`, `retry 3`, `timeout 30s`, `on_error continue`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub badges: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub id: String,
    pub source: String,
    pub target: String,
    /// `then`, `else`, `each`, `branch 1`, `on error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub id: String,
    pub kind: GroupKind,
    pub label: String,
    /// The group it sits in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The step that owns it.
    pub step: String,
}

/// A workflow's graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub groups: Vec<Group>,
}

/// The id of the trigger node.
pub const TRIGGER: &str = "trigger";

/// The graph of `doc`.
pub fn graph(doc: &WorkflowDoc) -> Graph {
    let mut b = Builder::default();
    let (label, detail) = match &doc.trigger {
        Trigger::Manual { .. } => ("Manual".to_owned(), "started by hand".to_owned()),
        Trigger::Schedule { cron, timezone, .. } => {
            ("Schedule".to_owned(), format!("{cron} ({timezone})"))
        }
        Trigger::Event { event_type, .. } => ("Event".to_owned(), event_type.clone()),
        Trigger::Webhook { .. } => ("Webhook".to_owned(), format!("POST /hooks/{}", doc.name)),
    };
    b.g.nodes.push(Node {
        id: TRIGGER.to_owned(),
        kind: NodeKind::Trigger,
        label,
        detail,
        step_id: None,
        path: vec![Seg::Key("trigger")],
        group: None,
        badges: Vec::new(),
    });
    if let Some((entry, _)) = b.seq(&doc.steps, vec![Seg::Key("steps")], None) {
        b.edge(TRIGGER, &entry, None);
    }
    b.g
}

#[derive(Default)]
struct Builder {
    g: Graph,
}

impl Builder {
    fn edge(&mut self, source: &str, target: &str, label: Option<&str>) {
        let id = match label {
            Some(l) => format!("{source}->{target}:{l}"),
            None => format!("{source}->{target}"),
        };
        self.g.edges.push(Edge {
            id,
            source: source.to_owned(),
            target: target.to_owned(),
            label: label.map(str::to_owned),
        });
    }

    /// Adds a node; `step` is the step it stands for and its path (none for a join).
    fn node(
        &mut self,
        id: &str,
        kind: NodeKind,
        label: String,
        detail: String,
        step: Option<(&StepDoc, &DocPath)>,
        group: Option<&str>,
    ) {
        self.g.nodes.push(Node {
            id: id.to_owned(),
            kind,
            label,
            detail,
            step_id: step.map(|(s, _)| s.id.clone()),
            path: step.map(|(_, p)| p.clone()).unwrap_or_default(),
            group: group.map(str::to_owned),
            badges: step.map(|(s, _)| badges(s)).unwrap_or_default(),
        });
    }

    fn group(
        &mut self,
        id: &str,
        kind: GroupKind,
        label: String,
        parent: Option<&str>,
        step: &str,
    ) {
        self.g.groups.push(Group {
            id: id.to_owned(),
            kind,
            label,
            parent: parent.map(str::to_owned),
            step: step.to_owned(),
        });
    }

    /// Adds `steps` one after the other; their entry node and the nodes the flow leaves
    /// from (None when there are no steps).
    fn seq(
        &mut self,
        steps: &[StepDoc],
        base: DocPath,
        group: Option<&str>,
    ) -> Option<(String, Vec<String>)> {
        let mut first: Option<String> = None;
        let mut exits: Vec<String> = Vec::new();
        for (i, s) in steps.iter().enumerate() {
            let mut path = base.clone();
            path.push(Seg::Index(i));
            let (entry, out) = self.step(s, path, group);
            for x in &exits {
                self.edge(x, &entry, None);
            }
            first.get_or_insert(entry);
            exits = out;
        }
        first.map(|f| (f, exits))
    }

    /// Adds a branch (`then`, a `parallel` branch) from `from` to `join`.
    fn branch(
        &mut self,
        from: &str,
        join: &str,
        steps: &[StepDoc],
        path: DocPath,
        group: Option<&str>,
        label: &str,
    ) {
        match self.seq(steps, path, group) {
            Some((entry, exits)) => {
                self.edge(from, &entry, Some(label));
                for x in exits {
                    self.edge(&x, join, None);
                }
            }
            None => self.edge(from, join, Some(label)),
        }
    }

    fn step(&mut self, s: &StepDoc, path: DocPath, group: Option<&str>) -> (String, Vec<String>) {
        let id = path_id(&path);
        let label = s.name.clone().unwrap_or_else(|| s.id.clone());
        let sub = |key: &'static str| {
            let mut p = path.clone();
            p.push(Seg::Key(key));
            p
        };
        let out = if let Some(c) = &s.condition {
            self.node(
                &id,
                NodeKind::Condition,
                label,
                c.uses.clone(),
                Some((s, &path)),
                group,
            );
            let join = format!("{id}/join");
            self.node(
                &join,
                NodeKind::Join,
                String::new(),
                String::new(),
                None,
                group,
            );
            let then = s.then.clone().unwrap_or_default();
            self.branch(&id, &join, &then, sub("then"), group, "then");
            let otherwise = s.otherwise.clone().unwrap_or_default();
            self.branch(&id, &join, &otherwise, sub("else"), group, "else");
            vec![join]
        } else if let Some(list) = &s.for_each {
            let gid = format!("{id}/group");
            let item = s.item.clone().unwrap_or_else(|| "item".to_owned());
            let list = value_text(list);
            self.group(
                &gid,
                GroupKind::ForEach,
                format!("for each {item} in {list}"),
                group,
                &id,
            );
            let mut detail = format!("{item} in {list}");
            if let Some(n) = s.concurrency {
                detail.push_str(&format!(", {n} at a time"));
            }
            self.node(
                &id,
                NodeKind::ForEach,
                label,
                detail,
                Some((s, &path)),
                Some(&gid),
            );
            let body = s.do_steps.clone().unwrap_or_default();
            match self.seq(&body, sub("do"), Some(&gid)) {
                Some((entry, exits)) => {
                    self.edge(&id, &entry, Some("each"));
                    exits
                }
                None => vec![id.clone()],
            }
        } else if let Some(branches) = &s.parallel {
            let gid = format!("{id}/group");
            self.group(
                &gid,
                GroupKind::Parallel,
                format!("{} branches", branches.len()),
                group,
                &id,
            );
            self.node(
                &id,
                NodeKind::Parallel,
                label,
                format!("{} branches", branches.len()),
                Some((s, &path)),
                Some(&gid),
            );
            let join = format!("{id}/join");
            self.node(
                &join,
                NodeKind::Join,
                String::new(),
                String::new(),
                None,
                Some(&gid),
            );
            for (b, branch) in branches.iter().enumerate() {
                let mut p = sub("parallel");
                p.push(Seg::Index(b));
                self.branch(
                    &id,
                    &join,
                    branch,
                    p,
                    Some(&gid),
                    &format!("branch {}", b + 1),
                );
            }
            vec![join]
        } else if let Some(w) = &s.workflow {
            self.node(
                &id,
                NodeKind::Workflow,
                label,
                w.clone(),
                Some((s, &path)),
                group,
            );
            vec![id.clone()]
        } else if let Some(c) = &s.connector {
            let detail = format!(
                "{} {c} {}",
                s.method.as_deref().unwrap_or("?"),
                s.path.as_deref().unwrap_or("")
            );
            self.node(
                &id,
                NodeKind::Connector,
                label,
                detail.trim().to_owned(),
                Some((s, &path)),
                group,
            );
            vec![id.clone()]
        } else {
            let detail = s.uses.clone().unwrap_or_default();
            self.node(
                &id,
                NodeKind::Action,
                label,
                detail,
                Some((s, &path)),
                group,
            );
            vec![id.clone()]
        };
        if let Some(OnErrorDoc::Steps(handler)) = &s.on_error {
            let gid = format!("{id}/on_error");
            self.group(
                &gid,
                GroupKind::OnError,
                format!("on error of {}", s.id),
                group,
                &id,
            );
            if let Some((entry, _)) = self.seq(handler, sub("on_error"), Some(&gid)) {
                self.edge(&id, &entry, Some("on error"));
            }
        }
        (id, out)
    }
}

/// A templated value as one line of text (`${input.groups}`, `[a, b]`).
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn badges(s: &StepDoc) -> Vec<String> {
    let mut out = Vec::new();
    if s.when.is_some() {
        out.push("when".to_owned());
    }
    if let Some(r) = &s.retry {
        out.push(format!("retry {}", r.attempts));
    }
    if let Some(t) = &s.timeout {
        out.push(format!("timeout {t}"));
    }
    if let Some(OnErrorDoc::Mode(m)) = &s.on_error {
        out.push(
            match m {
                super::model::OnErrorMode::Fail => "on_error fail",
                super::model::OnErrorMode::Continue => "on_error continue",
            }
            .to_owned(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::workflow::model::parse;

    fn of(yaml: &str) -> Graph {
        graph(&parse("t.yaml", yaml).unwrap())
    }

    type E = (String, String, Option<String>);

    /// The edges, in a stable order (the builder adds a step's inner edges first).
    fn edges(g: &Graph) -> BTreeSet<E> {
        g.edges
            .iter()
            .map(|e| (e.source.clone(), e.target.clone(), e.label.clone()))
            .collect()
    }

    fn set<const N: usize>(edges: [E; N]) -> BTreeSet<E> {
        edges.into_iter().collect()
    }

    fn e(s: &str, t: &str, l: Option<&str>) -> E {
        (s.to_owned(), t.to_owned(), l.map(str::to_owned))
    }

    const HEAD: &str = "version: 1\nname: g\ntrigger: { type: manual }\nrun_as: Read Only\n";

    #[test]
    fn a_sequence_starts_at_the_trigger() {
        let g = of(&format!(
            "{HEAD}steps:\n  - {{ id: a, uses: transform }}\n  - {{ id: b, name: Second, uses: transform, retry: {{ attempts: 3 }} }}\n"
        ));
        assert_eq!(g.nodes[0].id, TRIGGER);
        assert_eq!(g.nodes[0].kind, NodeKind::Trigger);
        assert_eq!(
            edges(&g),
            set([e("trigger", "steps.0", None), e("steps.0", "steps.1", None)])
        );
        assert_eq!(g.nodes[2].label, "Second");
        assert_eq!(g.nodes[2].detail, "transform");
        assert_eq!(g.nodes[2].badges, ["retry 3"]);
        assert_eq!(
            serde_json::to_value(&g.nodes[2].path).unwrap(),
            serde_json::json!(["steps", 1])
        );
        assert!(g.groups.is_empty());
    }

    #[test]
    fn an_if_has_two_branches_that_join() {
        let g = of(&format!(
            "{HEAD}steps:
  - id: check
    if: {{ uses: compare, with: {{ field: 1, operator: eq, value: 1 }} }}
    then:
      - {{ id: yes1, uses: transform }}
      - {{ id: yes2, uses: transform }}
  - {{ id: after, uses: transform }}
"
        ));
        let kinds: BTreeMap<&str, NodeKind> =
            g.nodes.iter().map(|n| (n.id.as_str(), n.kind)).collect();
        assert_eq!(kinds["steps.0"], NodeKind::Condition);
        assert_eq!(kinds["steps.0/join"], NodeKind::Join);
        assert_eq!(
            edges(&g),
            set([
                e("trigger", "steps.0", None),
                e("steps.0", "steps.0.then.0", Some("then")),
                e("steps.0.then.0", "steps.0.then.1", None),
                e("steps.0.then.1", "steps.0/join", None),
                // No `else`: the condition goes straight to the join.
                e("steps.0", "steps.0/join", Some("else")),
                e("steps.0/join", "steps.1", None),
            ])
        );
    }

    #[test]
    fn for_each_and_parallel_are_groups() {
        let g = of(&format!(
            "{HEAD}steps:
  - id: each
    for_each: ${{input.users}}
    item: user
    concurrency: 4
    do:
      - id: fan
        parallel:
          - [{{ id: left, uses: transform }}]
          - [{{ id: right1, uses: transform }}, {{ id: right2, uses: transform }}]
  - {{ id: done, uses: transform }}
"
        ));
        let groups: Vec<(&str, GroupKind, Option<&str>)> = g
            .groups
            .iter()
            .map(|x| (x.id.as_str(), x.kind, x.parent.as_deref()))
            .collect();
        assert_eq!(
            groups,
            [
                ("steps.0/group", GroupKind::ForEach, None),
                (
                    "steps.0.do.0/group",
                    GroupKind::Parallel,
                    Some("steps.0/group")
                ),
            ]
        );
        let node = |id: &str| g.nodes.iter().find(|n| n.id == id).unwrap();
        assert_eq!(node("steps.0").kind, NodeKind::ForEach);
        assert_eq!(
            node("steps.0").detail,
            "user in ${input.users}, 4 at a time"
        );
        assert_eq!(node("steps.0").group.as_deref(), Some("steps.0/group"));
        assert_eq!(
            node("steps.0.do.0.parallel.1.1").group.as_deref(),
            Some("steps.0.do.0/group")
        );
        assert_eq!(
            edges(&g),
            set([
                e("trigger", "steps.0", None),
                e("steps.0", "steps.0.do.0", Some("each")),
                e(
                    "steps.0.do.0",
                    "steps.0.do.0.parallel.0.0",
                    Some("branch 1")
                ),
                e("steps.0.do.0.parallel.0.0", "steps.0.do.0/join", None),
                e(
                    "steps.0.do.0",
                    "steps.0.do.0.parallel.1.0",
                    Some("branch 2")
                ),
                e(
                    "steps.0.do.0.parallel.1.0",
                    "steps.0.do.0.parallel.1.1",
                    None
                ),
                e("steps.0.do.0.parallel.1.1", "steps.0.do.0/join", None),
                e("steps.0.do.0/join", "steps.1", None),
            ])
        );
    }

    #[test]
    fn sub_workflows_connectors_and_handlers_have_their_own_kinds() {
        let g = of(&format!(
            "{HEAD}steps:
  - {{ id: sub, workflow: provision-user, input: {{}} }}
  - id: ticket
    connector: jira
    method: POST
    path: /rest/api/3/issue
    on_error:
      - {{ id: tell, uses: transform }}
"
        ));
        let node = |id: &str| g.nodes.iter().find(|n| n.id == id).unwrap();
        assert_eq!(node("steps.0").kind, NodeKind::Workflow);
        assert_eq!(node("steps.0").detail, "provision-user");
        assert_eq!(node("steps.1").kind, NodeKind::Connector);
        assert_eq!(node("steps.1").detail, "POST jira /rest/api/3/issue");
        assert_eq!(g.groups[0].kind, GroupKind::OnError);
        assert_eq!(
            node("steps.1.on_error.0").group.as_deref(),
            Some("steps.1/on_error")
        );
        assert!(edges(&g).contains(&e("steps.1", "steps.1.on_error.0", Some("on error"))));
    }

    /// Every bundled template and example: one node per step, every node reachable from
    /// the trigger, edges between known nodes only, unique ids.
    #[test]
    fn every_template_gives_a_connected_graph() {
        for t in crate::workflow::catalogue::TEMPLATES {
            let doc = crate::workflow::catalogue::doc(t).unwrap();
            let g = graph(&doc);
            let ids: BTreeSet<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
            assert_eq!(ids.len(), g.nodes.len(), "{}: duplicate node ids", doc.name);
            let mut steps = 0;
            crate::workflow::validate::visit(&doc.steps, &mut |_| steps += 1);
            let step_nodes = g.nodes.iter().filter(|n| n.step_id.is_some()).count();
            assert_eq!(step_nodes, steps, "{}", doc.name);
            for edge in &g.edges {
                assert!(ids.contains(edge.source.as_str()), "{edge:?}");
                assert!(ids.contains(edge.target.as_str()), "{edge:?}");
            }
            let mut seen = BTreeSet::from([TRIGGER]);
            let mut stack = vec![TRIGGER];
            while let Some(n) = stack.pop() {
                for edge in g.edges.iter().filter(|e| e.source == n) {
                    if seen.insert(edge.target.as_str()) {
                        stack.push(edge.target.as_str());
                    }
                }
            }
            assert_eq!(seen, ids, "{}: unreachable nodes", doc.name);
        }
    }
}
