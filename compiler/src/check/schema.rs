//! Builds the resolved [`Schema`] from the `schema` blocks of every file of a program: records
//! with their flat field layout, enums, the profile and its key.

use super::Ctx;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::schema::{EnumDef, FieldDef, RecordDef, RecordKind, Schema};
use crate::span::Span;
use crate::syntax::ast::{FieldDecl, RecordDecl, TypeExpr};
use crate::types::{RecordId, Ty};
use std::collections::HashMap;

/// Field names an event may not use: an NDJSON event line carries them beside its fields.
pub const ENVELOPE_FIELDS: [&str; 3] = ["type", "key", "at"];

const SCALAR_TYPES: [&str; 11] = [
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "timestamp",
    "duration",
    "money",
    "timezone",
    "dyn",
];
const GENERIC_TYPES: [&str; 3] = ["list", "map", "optional"];

/// Records of every file, declaration order kept, each with the file it came from.
pub(crate) fn build(ctx: &mut Ctx, decls: &[(usize, &RecordDecl)]) -> Schema {
    let mut schema = Schema::default();
    let mut seen: HashMap<String, Span> = HashMap::new();
    // Top-level records get their ids first, so that event ids follow declaration order and
    // nested records come after them.
    let mut top: Vec<(usize, &RecordDecl, RecordId)> = Vec::new();
    for &(file, decl) in decls {
        if let Some(first) = seen.get(&decl.name.name) {
            let d = Diagnostic::error(
                Code::Duplicate,
                ctx.file_name(file),
                decl.name.span,
                format!("`{}` is declared twice", decl.name.name),
            )
            .with_label("second declaration")
            .with_secondary(*first, "first declared here");
            ctx.push(d);
            continue;
        }
        seen.insert(decl.name.name.clone(), decl.name.span);
        if decl.is_profile
            && let Some(existing) = schema.profile.and_then(|p| schema.record(p))
        {
            let d = Diagnostic::error(
                Code::Duplicate,
                ctx.file_name(file),
                decl.name.span,
                format!(
                    "a program has one profile, and `{}` is already it",
                    existing.name
                ),
            )
            .with_secondary(existing.span, "the profile")
            .with_help("declare the other per-customer facts as fields of that profile");
            ctx.push(d);
            continue;
        }
        let id = schema.records.len() as RecordId;
        schema.records.push(RecordDef {
            name: decl.name.name.clone(),
            kind: if decl.is_profile {
                RecordKind::Profile
            } else {
                RecordKind::Event
            },
            fields: Vec::new(),
            key: None,
            span: decl.name.span,
        });
        if decl.is_profile {
            schema.profile = Some(id);
        }
        top.push((file, decl, id));
    }
    for (file, decl, id) in top {
        let fields = fields(
            ctx,
            &mut schema,
            file,
            &decl.name.name,
            &decl.fields,
            !decl.is_profile,
        );
        if let Some(record) = schema.records.get_mut(id as usize) {
            record.fields = fields;
        }
        if let Some(key) = &decl.key {
            check_key(ctx, &mut schema, file, id, key);
        }
    }
    schema
}

fn check_key(
    ctx: &mut Ctx,
    schema: &mut Schema,
    file: usize,
    id: RecordId,
    key: &crate::syntax::ast::Ident,
) {
    let Some(record) = schema.records.get_mut(id as usize) else {
        return;
    };
    let names: Vec<&str> = record.fields.iter().map(|f| f.name.as_str()).collect();
    match record.field(&key.name) {
        Some((slot, field)) if matches!(field.ty, Ty::String | Ty::Int) => record.key = Some(slot),
        Some((_, field)) => {
            let d = Diagnostic::error(
                Code::BadKey,
                ctx.file_name(file),
                key.span,
                format!("the key `{}` must be a string or an int", key.name),
            )
            .with_secondary(field.span, "declared here");
            ctx.push(d);
        }
        None => {
            let mut d = Diagnostic::error(
                Code::BadKey,
                ctx.file_name(file),
                key.span,
                format!("the key `{}` is not a field of `{}`", key.name, record.name),
            )
            .with_label("no such field");
            d.help = did_you_mean(&key.name, names)
                .or(Some(format!("declare it, as in `{}: string`", key.name)));
            ctx.push(d);
        }
    }
}

fn fields(
    ctx: &mut Ctx,
    schema: &mut Schema,
    file: usize,
    owner: &str,
    decls: &[FieldDecl],
    is_event: bool,
) -> Vec<FieldDef> {
    let mut out: Vec<FieldDef> = Vec::new();
    for decl in decls {
        let name = &decl.name.name;
        if let Some(first) = out.iter().find(|f| &f.name == name) {
            let d = Diagnostic::error(
                Code::Duplicate,
                ctx.file_name(file),
                decl.name.span,
                format!("field `{name}` is declared twice"),
            )
            .with_secondary(first.span, "first declared here");
            ctx.push(d);
            continue;
        }
        if is_event && ENVELOPE_FIELDS.contains(&name.as_str()) {
            let d = Diagnostic::error(
                Code::ReservedField,
                ctx.file_name(file),
                decl.name.span,
                format!("an event cannot have a field named `{name}`"),
            )
            .with_help(
                "event lines carry `type`, `key` and `at` beside the fields: pick another name",
            );
            ctx.push(d);
            continue;
        }
        let qualified = format!("{owner}.{name}");
        let ty = resolve_type(ctx, schema, file, &qualified, &decl.ty);
        out.push(FieldDef {
            name: name.clone(),
            ty,
            span: decl.name.span,
        });
    }
    out
}

fn resolve_type(
    ctx: &mut Ctx,
    schema: &mut Schema,
    file: usize,
    owner: &str,
    texpr: &TypeExpr,
) -> Ty {
    match texpr {
        TypeExpr::Named(ident) => match ident.name.as_str() {
            "int" => Ty::Int,
            "uint" => Ty::Uint,
            "double" => Ty::Double,
            "bool" => Ty::Bool,
            "string" => Ty::String,
            "bytes" => Ty::Bytes,
            "timestamp" => Ty::Timestamp,
            "duration" => Ty::Duration,
            "money" => Ty::Money,
            "timezone" => Ty::Timezone,
            "dyn" => Ty::Dyn,
            other if GENERIC_TYPES.contains(&other) => {
                let d = Diagnostic::error(
                    Code::UnknownType,
                    ctx.file_name(file),
                    ident.span,
                    format!("`{other}` needs type arguments"),
                )
                .with_help(match other {
                    "map" => "write `map<string, int>`",
                    "optional" => "write `optional<string>`",
                    _ => "write `list<string>`",
                });
                ctx.push(d);
                Ty::Error
            }
            other => {
                let mut d = Diagnostic::error(
                    Code::UnknownType,
                    ctx.file_name(file),
                    ident.span,
                    format!("unknown type `{other}`"),
                )
                .with_label("not a type");
                d.help = did_you_mean(
                    other,
                    SCALAR_TYPES.iter().chain(GENERIC_TYPES.iter()).copied(),
                );
                ctx.push(d);
                Ty::Error
            }
        },
        TypeExpr::Generic { name, args, span } => {
            let resolved: Vec<Ty> = args
                .iter()
                .map(|a| resolve_type(ctx, schema, file, owner, a))
                .collect();
            let arity = match name.name.as_str() {
                "list" | "optional" => 1,
                "map" => 2,
                _ => 0,
            };
            if arity == 0 {
                let mut d = Diagnostic::error(
                    Code::UnknownType,
                    ctx.file_name(file),
                    name.span,
                    format!("unknown type `{}`", name.name),
                );
                d.help = did_you_mean(&name.name, GENERIC_TYPES);
                ctx.push(d);
                return Ty::Error;
            }
            if resolved.len() != arity {
                let d = Diagnostic::error(
                    Code::UnknownType,
                    ctx.file_name(file),
                    *span,
                    format!(
                        "`{}` takes {arity} type argument{}",
                        name.name,
                        if arity == 1 { "" } else { "s" }
                    ),
                );
                ctx.push(d);
                return Ty::Error;
            }
            let mut it = resolved.into_iter();
            let first = it.next().unwrap_or(Ty::Error);
            match name.name.as_str() {
                "list" => Ty::list(first),
                "optional" if matches!(first, Ty::Optional(_)) => {
                    let d = Diagnostic::error(
                        Code::UnknownType,
                        ctx.file_name(file),
                        *span,
                        "an optional of an optional says nothing more",
                    )
                    .with_help("write `optional<T>` once");
                    ctx.push(d);
                    first
                }
                "optional" => Ty::optional(first),
                _ => {
                    if !matches!(
                        first,
                        Ty::String | Ty::Int | Ty::Uint | Ty::Bool | Ty::Error
                    ) {
                        let d = Diagnostic::error(
                            Code::UnknownType,
                            ctx.file_name(file),
                            args.first().map_or(*span, TypeExpr::span),
                            format!("a map key must be string, int, uint or bool, not {first}"),
                        );
                        ctx.push(d);
                    }
                    Ty::map(first, it.next().unwrap_or(Ty::Error))
                }
            }
        }
        TypeExpr::Enum { variants, .. } => {
            let mut names: Vec<String> = Vec::new();
            for v in variants {
                if names.contains(&v.name) {
                    let d = Diagnostic::error(
                        Code::Duplicate,
                        ctx.file_name(file),
                        v.span,
                        format!("variant `{}` is listed twice", v.name),
                    );
                    ctx.push(d);
                } else {
                    names.push(v.name.clone());
                }
            }
            let id = schema.enums.len() as u32;
            schema.enums.push(EnumDef {
                name: owner.to_string(),
                variants: names,
            });
            Ty::Enum(id)
        }
        TypeExpr::Record {
            fields: decls,
            span,
        } => {
            let id = schema.records.len() as RecordId;
            schema.records.push(RecordDef {
                name: owner.to_string(),
                kind: RecordKind::Nested,
                fields: Vec::new(),
                key: None,
                span: *span,
            });
            let fields = fields(ctx, schema, file, owner, decls, false);
            if let Some(record) = schema.records.get_mut(id as usize) {
                record.fields = fields;
            }
            Ty::Record(id)
        }
    }
}

/// A fingerprint of the schema's shape (names, kinds, field types and order; not positions):
/// a bundle compiled against one schema is refused by a runtime holding state of another.
pub fn fingerprint(schema: &Schema) -> String {
    let mut hasher = blake3::Hasher::new();
    for record in &schema.records {
        hasher.update(
            format!(
                "record {} {:?} key={:?}\n",
                record.name, record.kind, record.key
            )
            .as_bytes(),
        );
        for field in &record.fields {
            hasher.update(format!("  {}: {:?}\n", field.name, field.ty).as_bytes());
        }
    }
    for e in &schema.enums {
        hasher.update(format!("enum {} {:?}\n", e.name, e.variants).as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}
