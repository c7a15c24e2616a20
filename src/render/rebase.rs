//! Giving a rendered object the positions of the files it was written in. A renderer's output
//! has its own lines; a finding must name the line of the user's file instead. Each node of the
//! rendered object takes the position of the same node (by key path) in the file that wrote
//! it: a patch when the patch wrote that value, else the resource's own file. Pure.

use crate::manifest::{Node, Pos, node::Value};

/// One file's version of the object: its tree, and what to add to its line numbers (0 for the
/// resource's own file; a patch's lines are moved into the range `Source::elsewhere` names).
#[derive(Clone, Copy)]
pub struct Layer<'a> {
    pub node: &'a Node,
    pub line_offset: u32,
}

impl Layer<'_> {
    fn pos(&self, pos: Pos) -> Pos {
        Pos {
            line: pos.line + self.line_offset,
            col: pos.col,
        }
    }
}

/// Rewrites every position in `rendered`: from the last patch that wrote the same value there,
/// else from `source` (the resource as written), else the nearest parent's position (fields a
/// transformer added, such as a namespace or common labels), starting from `fallback`.
/// Where no file wrote a node, it gets the position of the key it sits under.
pub fn rebase(rendered: &mut Node, source: Option<&Node>, patches: &[Layer<'_>], fallback: Pos) {
    let source = source.map(|node| Layer {
        node,
        line_offset: 0,
    });
    walk(rendered, source, patches.to_vec(), fallback);
}

/// Which layer wrote this node: a patch that holds the same scalar (or the node at all, when
/// the resource lacks it), else the resource.
fn writer<'a>(node: &Node, source: Option<Layer<'a>>, patches: &[Layer<'a>]) -> Option<Layer<'a>> {
    let scalar = !matches!(node.value, Value::Map(_) | Value::Seq(_));
    patches
        .iter()
        .rev()
        .find(|p| {
            if scalar {
                p.node.value == node.value
            } else {
                source.is_none()
            }
        })
        .copied()
        .or(source)
}

fn walk<'a>(node: &mut Node, source: Option<Layer<'a>>, patches: Vec<Layer<'a>>, inherited: Pos) {
    let here = writer(node, source, &patches).map_or(inherited, |l| l.pos(l.node.pos));
    node.pos = here;
    match &mut node.value {
        Value::Map(entries) => {
            for (key, child) in entries {
                let child_of = |l: Layer<'a>| {
                    l.node.entry(&key.name).map(|(k, v)| {
                        (
                            k.pos,
                            Layer {
                                node: v,
                                line_offset: l.line_offset,
                            },
                        )
                    })
                };
                let source_child = source.and_then(child_of);
                let patch_children: Vec<(Pos, Layer<'a>)> =
                    patches.iter().filter_map(|p| child_of(*p)).collect();
                let layers: Vec<Layer<'a>> = patch_children.iter().map(|(_, l)| *l).collect();
                let chosen = writer(child, source_child.map(|(_, l)| l), &layers);
                key.pos = match chosen {
                    Some(l) => patch_children
                        .iter()
                        .chain(source_child.iter())
                        .find(|(_, c)| std::ptr::eq(c.node, l.node))
                        .map_or(inherited, |(p, _)| l.pos(*p)),
                    // Added by a transformer (common labels, a namespace): at the key of the
                    // mapping it was added to.
                    None => inherited,
                };
                walk(child, source_child.map(|(_, l)| l), layers, key.pos);
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let item_of = |l: Layer<'a>| {
                    same_item(l.node, item, i).map(|n| Layer {
                        node: n,
                        line_offset: l.line_offset,
                    })
                };
                let source_item = source.and_then(item_of);
                let patch_items: Vec<Layer<'a>> =
                    patches.iter().filter_map(|p| item_of(*p)).collect();
                walk(item, source_item, patch_items, inherited);
            }
        }
        _ => {}
    }
}

/// The item of a list that corresponds to `item` (the `i`th of the rendered list): the one with
/// the same `name` when items are named (containers, env, volumes: strategic merge patches
/// merge them by name), else the `i`th.
fn same_item<'a>(list: &'a Node, item: &Node, i: usize) -> Option<&'a Node> {
    let items = list.as_seq()?;
    match item.get("name").and_then(Node::as_str) {
        Some(name) => items
            .iter()
            .find(|n| n.get("name").and_then(Node::as_str) == Some(name)),
        None => items.get(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Node {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn positions_come_from_the_file_that_wrote_each_value() {
        // As kustomize prints it: keys sorted, a prefix added, a patch's annotation merged in.
        let mut rendered = parse(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  annotations:\n    a: PreSync\n    b: \"-1\"\n  labels:\n    team: x\n  name: dev-migrate\nspec:\n  template:\n    spec:\n      containers:\n      - image: busybox\n        name: m\n",
        );
        let base = parse(
            "# base\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    a: PreSync\nspec:\n  template:\n    spec:\n      containers:\n      - name: m\n        image: busybox\n",
        );
        let patch = parse("kind: Job\nmetadata:\n  name: migrate\n  annotations:\n    b: \"-1\"\n");
        let offset = 1 << 24;
        rebase(
            &mut rendered,
            Some(&base),
            &[Layer {
                node: &patch,
                line_offset: offset,
            }],
            Pos { line: 2, col: 1 },
        );
        let ann = rendered.path(&["metadata", "annotations"]).unwrap();
        assert_eq!(ann.entry("a").unwrap().0.pos, Pos { line: 7, col: 5 });
        assert_eq!(
            ann.entry("b").unwrap().0.pos,
            Pos {
                line: offset + 5,
                col: 5
            }
        );
        // The name the prefix changed is still where the base wrote it.
        let (name_key, _) = rendered.get("metadata").unwrap().entry("name").unwrap();
        assert_eq!(name_key.pos, Pos { line: 5, col: 3 });
        // A label a transformer added has the position of the nearest written parent.
        let (labels_key, labels) = rendered.get("metadata").unwrap().entry("labels").unwrap();
        assert_eq!(labels_key.pos, Pos { line: 4, col: 1 });
        assert_eq!(labels.entry("team").unwrap().0.pos.line, 4);
        // List items are matched by name, whatever order the renderer printed fields in.
        let image = rendered
            .path(&["spec", "template", "spec", "containers"])
            .and_then(|c| c.as_seq())
            .and_then(|c| c[0].entry("image"))
            .unwrap();
        assert_eq!(image.0.pos, Pos { line: 13, col: 9 });
    }
}
