//! Problems the loader found, as findings: syntax errors, documents that are not objects,
//! missing fields, and annotation or label values that are not strings.

use super::{Object, Sink, rules};
use crate::manifest::node::Value;
use crate::manifest::{InputErrorKind, InputNoteKind, Loaded, Pos};

pub fn check(loaded: &Loaded, sink: &mut Sink) {
    for e in &loaded.errors {
        let pos = e.pos.unwrap_or(Pos { line: 1, col: 1 });
        let (rule, message, suggestion) = match e.kind {
            // Files that cannot be read at all stop the run before lint; non-string values are
            // reported from the objects themselves, which the loader keeps.
            InputErrorKind::Unreadable | InputErrorKind::NonStringValue => continue,
            InputErrorKind::Syntax => (
                &rules::YAML_SYNTAX,
                format!(
                    "{}: Argo CD cannot render the app, so nothing is synced",
                    e.message
                ),
                "fix the YAML at this place".to_owned(),
            ),
            InputErrorKind::NotAnObject => (
                &rules::INVALID_OBJECT,
                format!("{}: Argo CD cannot apply it", e.message),
                "make the document a mapping with apiVersion, kind and metadata, with string names"
                    .to_owned(),
            ),
            InputErrorKind::InvalidName => (
                &rules::INVALID_NAME,
                format!(
                    "{}: the API server rejects it, so Argo CD's sync fails",
                    e.message
                ),
                "use lower case letters, digits, '-' (and '.' where the kind allows it)".to_owned(),
            ),
            InputErrorKind::MissingField => (
                &rules::MISSING_FIELD,
                format!(
                    "{}: the API server rejects it, so Argo CD's sync fails",
                    e.message
                ),
                missing_field_fix(&e.message).to_owned(),
            ),
        };
        sink.input(rule, &e.file, pos, None, message, Some(suggestion));
    }
    for note in &loaded.notes {
        sink.input(
            &rules::SKIPPED_FILE,
            &note.file,
            Pos { line: 1, col: 1 },
            None,
            note.message.clone(),
            Some(
                match note.kind {
                    InputNoteKind::NotKubernetes => {
                        "nothing to change if the file is not meant to be applied; otherwise give \
                         its documents apiVersion and kind"
                    }
                    InputNoteKind::SymlinkedDirectory => {
                        "nothing to change if the objects are read elsewhere; otherwise name the \
                         directory the link points to with -f"
                    }
                    InputNoteKind::AlreadyRead => "name each directory once",
                }
                .to_owned(),
            ),
        );
    }
}

fn missing_field_fix(message: &str) -> &'static str {
    if message.contains("apiVersion") {
        "add apiVersion, e.g. `apiVersion: v1` or `apiVersion: batch/v1`"
    } else if message.contains("kind") {
        "add kind, e.g. `kind: Job`"
    } else {
        "add metadata.name (a hook may use metadata.generateName instead)"
    }
}

/// `non-string-annotation`: values of annotations and labels must be strings.
pub fn non_string_values(o: &Object, sink: &mut Sink) {
    for field in ["annotations", "labels"] {
        let Some(entries) = o.m.root.path(&["metadata", field]).and_then(|n| n.as_map()) else {
            continue;
        };
        for (key, value) in entries {
            if value.as_str().is_some() {
                continue;
            }
            let what = if field == "annotations" {
                "annotation"
            } else {
                "label"
            };
            let (shown, quoted) = match &value.value {
                Value::Number(n) => (format!(" ({n})"), Some(n.to_string())),
                Value::Bool(b) => (format!(" ({b})"), Some(b.to_string())),
                Value::Null => (String::new(), Some(String::new())),
                _ => (String::new(), None),
            };
            let suggestion = match quoted {
                Some(q) => format!("quote the value: `{}: \"{q}\"`", key.name),
                None => format!("write the value of {:?} as one string", key.name),
            };
            let kind = match value.value {
                Value::Null => "an empty",
                _ => value.type_name(),
            };
            sink.object(
                &rules::NON_STRING_ANNOTATION,
                o,
                key.pos,
                format!(
                    "{what} {:?} has {kind} value{shown}, not a string: the API server rejects the object, so Argo CD's sync fails",
                    key.name,
                ),
                Some(suggestion),
            );
        }
    }
}
