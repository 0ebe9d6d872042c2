//! Expressions: name resolution in scope, CEL typing with Offer's types, lowering to IR. Every
//! mistake is a diagnostic and an expression of type `Ty::Error`, which checks against anything,
//! so that one mistake yields one diagnostic.

use super::{Ctx, Module, functions, list_names};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::ir::{self, AggregateFn, BinaryOp, ExprKind, Series, UnaryOp, Var};
use crate::span::Span;
use crate::syntax::ast::{self, Ident, Literal, Temporal, TemporalFn};
use crate::syntax::parse::ParsedFile;
use crate::types::{RecordId, Ty, TyDisplay};
use crate::value::{EnumValue, EvalError, Value};
use std::sync::Arc;

/// What names an expression may use besides constants.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// The event whose fields are in scope by bare name and which its type name denotes: a
    /// rule's trigger, or the event a temporal filter looks at.
    pub trigger: Option<RecordId>,
    pub profile: bool,
    pub now: bool,
    /// Temporal forms and the latest events of other types.
    pub history: bool,
    /// Variables bound from outside, in order (`offer eval --bindings`).
    pub bindings: Vec<(String, Ty)>,
    /// Comprehension variables, outermost first; a variable's index is its `Var::Local` number.
    locals: Vec<(String, Ty)>,
}

impl Scope {
    pub fn constant() -> Scope {
        Scope::default()
    }

    pub fn rule(trigger: RecordId) -> Scope {
        Scope {
            trigger: Some(trigger),
            profile: true,
            now: true,
            history: true,
            ..Scope::default()
        }
    }

    pub fn offer() -> Scope {
        Scope {
            profile: true,
            now: true,
            history: true,
            ..Scope::default()
        }
    }

    /// A temporal filter: evaluated as each event arrives, it sees that event, the profile and
    /// the time, but no history.
    pub fn series_filter(event: RecordId) -> Scope {
        Scope {
            trigger: Some(event),
            profile: true,
            now: true,
            ..Scope::default()
        }
    }

    pub fn with_bindings(bindings: Vec<(String, Ty)>) -> Scope {
        Scope {
            bindings,
            ..Scope::default()
        }
    }
}

/// How a stand-alone expression is checked: what `offer eval` and the CEL conformance runner
/// ask for.
#[derive(Clone, Debug, Default)]
pub struct ExprOptions {
    /// Variables bound from outside, in order: a name (qualified names such as `com.example.x`
    /// are allowed) and its type.
    pub bindings: Vec<(String, Ty)>,
    /// CEL's container: the namespace in which names resolve first (`com.example` makes `x`
    /// find `com.example.x`).
    pub container: String,
    /// CEL's unchecked evaluation: no static type errors; every mismatch, unknown name or
    /// unknown function becomes an error value at evaluation.
    pub dynamic: bool,
    /// Parse `has`, `all`, `exists`, `exists_one`, `map` and `filter` as ordinary calls.
    pub no_macros: bool,
    /// Functions of the host, declared for the checker: calls to them type-check and evaluate
    /// to an error, since the language has no implementation of them.
    pub functions: Vec<DeclaredFunction>,
    /// Leave constant subexpressions to evaluation instead of folding them: what a backend
    /// (the interpreter against the folder, the JIT) is compared on.
    pub no_fold: bool,
    /// Record types of the host, which the expression may build (`Type{field: value}`) and
    /// read; their ids are their places here. Evaluate with [`ExprOptions::schema`].
    pub records: Vec<(String, Vec<(String, Ty)>)>,
}

impl ExprOptions {
    /// The schema a stand-alone expression checked with these options is evaluated with: the
    /// host's record types.
    pub fn schema(&self) -> crate::schema::Schema {
        use crate::schema::{FieldDef, RecordDef, RecordKind};
        let records = self
            .records
            .iter()
            .map(|(name, fields)| RecordDef {
                name: name.clone(),
                kind: RecordKind::Host,
                fields: fields
                    .iter()
                    .map(|(name, ty)| FieldDef {
                        name: name.clone(),
                        ty: ty.clone(),
                        span: Span::default(),
                    })
                    .collect(),
                key: None,
                span: Span::default(),
            })
            .collect();
        crate::schema::Schema {
            records,
            ..crate::schema::Schema::default()
        }
    }
}

/// A function the host declares, with its overloads.
#[derive(Clone, Debug, Default)]
pub struct DeclaredFunction {
    pub name: String,
    pub overloads: Vec<DeclaredOverload>,
}

/// One overload of a declared function: parameter types (the receiver first, for a method)
/// with type parameters (`Ty::Param`), and the result type.
#[derive(Clone, Debug)]
pub struct DeclaredOverload {
    pub params: Vec<Ty>,
    pub result: Ty,
    pub method: bool,
}

/// Checks one stand-alone expression: only `options.bindings` and the standard library's
/// constants are in scope.
pub fn check_expression(
    file: &str,
    stdlib: &[Module<'_>],
    expr: &ast::Expr,
    options: ExprOptions,
) -> (ir::Expr, Vec<Diagnostic>) {
    let empty = ParsedFile::default();
    let mut modules: Vec<Module<'_>> = stdlib.to_vec();
    modules.push(Module {
        name: "",
        file,
        stdlib: false,
        parsed: &empty,
    });
    let file_index = modules.len() - 1;
    let mut ctx = Ctx::new(&modules);
    ctx.schema = options.schema();
    // The bindings go to the scope; the rest is how the checker behaves.
    let mut options = options;
    let bindings = std::mem::take(&mut options.bindings);
    let no_fold = options.no_fold;
    ctx.mode = options;
    for (i, item) in ctx.items().collect::<Vec<_>>() {
        if let ast::Item::Let(decl) = item {
            ctx.declare_constant(i, decl);
        }
    }
    let mut checker = ExprChecker {
        ctx: &mut ctx,
        file: file_index,
        scope: Scope::with_bindings(bindings),
    };
    let checked = checker.check(expr);
    let result = if no_fold {
        checked
    } else {
        crate::fold::fold(checked, &ctx.schema)
    };
    let Ctx { diagnostics, .. } = ctx;
    (result, diagnostics)
}

pub(crate) struct ExprChecker<'c, 'a> {
    pub ctx: &'c mut Ctx<'a>,
    pub file: usize,
    pub scope: Scope,
}

pub(crate) fn error_expr(span: Span) -> ir::Expr {
    ir::Expr {
        kind: ExprKind::Const(Value::Null),
        ty: Ty::Error,
        span,
    }
}

fn node(kind: ExprKind, ty: Ty, span: Span) -> ir::Expr {
    ir::Expr { kind, ty, span }
}

impl<'c, 'a> ExprChecker<'c, 'a> {
    fn file_name(&self) -> &'a str {
        self.ctx.file_name(self.file)
    }

    pub fn error(&mut self, code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(code, self.file_name(), span, message)
    }

    pub fn report(&mut self, d: Diagnostic) {
        self.ctx.push(d);
    }

    pub fn show(&self, ty: &Ty) -> String {
        TyDisplay {
            ty,
            schema: Some(&self.ctx.schema),
        }
        .to_string()
    }

    pub fn check(&mut self, e: &ast::Expr) -> ir::Expr {
        self.check_hinted(e, None)
    }

    /// Whether type errors are deferred to evaluation (CEL's unchecked evaluation).
    pub fn dynamic(&self) -> bool {
        self.ctx.mode.dynamic
    }

    /// In dynamic mode, what stands for a name or function that does not exist: an error value
    /// at evaluation, like an unchecked CEL interpreter gives.
    pub fn deferred_error(&self, error: EvalError, span: Span) -> ir::Expr {
        ir::Expr::constant(Value::error(error), Ty::Dyn, span)
    }

    /// Checks `e`; `hint` is the type the context expects, used only to read a bare name as an
    /// enum variant (`plan == business`).
    pub fn check_hinted(&mut self, e: &ast::Expr, hint: Option<&Ty>) -> ir::Expr {
        let mut checked = self.check_flexible(e, hint);
        if contains_free(&checked.ty) {
            checked.ty = checked.ty.settled();
        }
        checked
    }

    /// Checks `e`, leaving the [`Ty::Free`] of empty literals in its type for a literal or a
    /// ternary that joins it with its siblings.
    pub(crate) fn check_flexible(&mut self, e: &ast::Expr, hint: Option<&Ty>) -> ir::Expr {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Literal(lit) => literal(lit, span),
            ast::ExprKind::Invalid => error_expr(span),
            ast::ExprKind::Ident { name, global } => self.ident(name, *global, span, hint),
            ast::ExprKind::Select {
                base,
                field,
                optional: false,
            } => self.select(base, field, span),
            ast::ExprKind::Select {
                base,
                field,
                optional: true,
            } => self.optional_select(base, field, span),
            ast::ExprKind::Call { target, func, args } => {
                functions::call(self, target.as_deref(), func, args, span)
            }
            ast::ExprKind::Index {
                base,
                index,
                optional,
            } => self.index(base, index, *optional, span),
            ast::ExprKind::Unary { op, operand } => self.unary(*op, operand, span),
            ast::ExprKind::Binary {
                op: op @ (ast::BinaryOp::And | ast::BinaryOp::Or),
                ..
            } => self.junction(e, *op),
            ast::ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, span),
            ast::ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                let c = self.check(cond);
                self.expect_bool(&c, "the condition of `? :`");
                let mut t = self.check_flexible(then, hint);
                let mut o = self.check_flexible(otherwise, hint);
                let ty = t.ty.join(&o.ty);
                t.ty = t.ty.settled();
                o.ty = o.ty.settled();
                if ty == Ty::Dyn && !t.ty.is_dynamic() && !o.ty.is_dynamic() && !self.dynamic() {
                    let d = self
                        .error(
                            Code::NoOverload,
                            t.span,
                            format!(
                                "the branches of `? :` are {} and {}",
                                self.show(&t.ty),
                                self.show(&o.ty)
                            ),
                        )
                        .with_label(format!("this is {}", self.show(&t.ty)))
                        .with_secondary(o.span, format!("this is {}", self.show(&o.ty)))
                        .with_help(
                            "both branches need one type: convert one, or wrap both in `dyn(...)`",
                        );
                    self.report(d);
                }
                node(
                    ExprKind::Cond {
                        cond: Box::new(c),
                        then: Box::new(t),
                        otherwise: Box::new(o),
                    },
                    ty,
                    span,
                )
            }
            ast::ExprKind::List(items) => {
                let elem_hint = match hint {
                    Some(Ty::List(t)) => Some(t.as_ref().clone()),
                    _ => None,
                };
                let mut items: Vec<ir::Expr> = items
                    .iter()
                    .map(|i| {
                        let checked = self.check_flexible(&i.value, elem_hint.as_ref());
                        if i.optional {
                            self.optional_entry(checked)
                        } else {
                            checked
                        }
                    })
                    .collect();
                let elem = match items.is_empty() {
                    true => Ty::Free,
                    false => join_all(items.iter().map(entry_type)),
                };
                for item in &mut items {
                    item.ty = item.ty.settled();
                }
                node(ExprKind::List(items), Ty::list(elem), span)
            }
            ast::ExprKind::Map(entries) => self.map_literal(entries, span),
            ast::ExprKind::Message {
                name,
                global,
                fields,
            } => self.message_literal(name, *global, fields, span),
            ast::ExprKind::Temporal(t) => self.temporal(t, span),
        }
    }

    /// Reports a diagnostic unless `e` is a bool (or dynamic).
    pub fn expect_bool(&mut self, e: &ir::Expr, what: &str) {
        if !Ty::Bool.accepts(&e.ty) && !self.ctx.mode.dynamic {
            let d = self
                .error(
                    Code::TypeMismatch,
                    e.span,
                    format!("{what} must be a bool, not {}", self.show(&e.ty)),
                )
                .with_label(format!("this is {}", self.show(&e.ty)));
            let d = match &e.ty {
                Ty::Optional(_) => d.with_help(
                    "test an optional with `.hasValue()`, or read it with `.orValue(false)`",
                ),
                _ => d,
            };
            self.report(d);
        }
    }

    // ------------------------------------------------------------------------------ names

    /// Whether a bare name means something here (without reporting anything).
    fn resolves(&self, name: &str) -> bool {
        self.scope.locals.iter().any(|(n, _)| n == name)
            || self.binding_index(name, false).is_some()
            || self.trigger_field(name).is_some()
            || (self.scope.now && name == "now")
            || self.ctx.schema.record_by_name(name).is_some()
            || self.ctx.has_constant(name)
            || Ty::named(name).is_some()
    }

    fn trigger_field(&self, name: &str) -> Option<(u32, Ty)> {
        let record = self.ctx.schema.record(self.scope.trigger?)?;
        record.field(name).map(|(slot, f)| (slot, f.ty.clone()))
    }

    fn ident(&mut self, name: &str, global: bool, span: Span, hint: Option<&Ty>) -> ir::Expr {
        if !global && let Some(i) = self.scope.locals.iter().rposition(|(n, _)| n == name) {
            let ty = self.scope.locals.get(i).map_or(Ty::Dyn, |(_, t)| t.clone());
            return node(ExprKind::Var(Var::Local(i as u32)), ty, span);
        }
        if let Some(i) = self.binding_index(name, global) {
            let ty = self
                .scope
                .bindings
                .get(i)
                .map_or(Ty::Dyn, |(_, t)| t.clone());
            return node(ExprKind::Var(Var::Binding(i as u32)), ty, span);
        }
        if let Some((slot, ty)) = self.trigger_field(name) {
            let event = self.event_var(span);
            return node(
                ExprKind::Field {
                    base: Box::new(event),
                    slot,
                },
                ty,
                span,
            );
        }
        if self.scope.now && name == "now" {
            return node(ExprKind::Var(Var::Now), Ty::Timestamp, span);
        }
        if let Some((id, _)) = self.ctx.schema.record_by_name(name) {
            return self.record_ref(id, name, span);
        }
        if self.ctx.has_constant(name) {
            return match self.ctx.constant(name, self.file, span) {
                Some((value, ty)) => ir::Expr::constant(value, ty, span),
                None => error_expr(span),
            };
        }
        if let Some(Ty::Enum(id)) = hint
            && let Some(index) = self.variant_index(*id, name)
        {
            return ir::Expr::constant(
                Value::Enum(EnumValue { ty: *id, index }),
                Ty::Enum(*id),
                span,
            );
        }
        if let Some(ty) = Ty::named(name) {
            return ir::Expr::constant(Value::Type(Arc::new(ty)), Ty::Type, span);
        }
        if self.dynamic() {
            return self.deferred_error(EvalError::Unbound(name.to_string()), span);
        }
        self.unknown_name(name, span, hint);
        error_expr(span)
    }

    /// The binding a name refers to, resolved in the container the way CEL does: in `a.b`,
    /// `x` is `a.b.x`, else `a.x`, else `x`.
    fn binding_index(&self, name: &str, global: bool) -> Option<usize> {
        let bindings = &self.scope.bindings;
        self.in_container(name, global, |qualified| {
            bindings.iter().position(|(n, _)| n == qualified)
        })
    }

    /// The first of `name`'s candidates that `find` finds, in CEL's order: in container
    /// `a.b`, `a.b.name`, then `a.name`, then `name`; only `name` when written with a leading
    /// dot (`global`).
    fn in_container<T>(
        &self,
        name: &str,
        global: bool,
        find: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        if global {
            return find(name);
        }
        let mut container = self.ctx.mode.container.as_str();
        while !container.is_empty() {
            if let Some(found) = find(&format!("{container}.{name}")) {
                return Some(found);
            }
            container = container.rsplit_once('.').map_or("", |(outer, _)| outer);
        }
        find(name)
    }

    fn event_var(&self, span: Span) -> ir::Expr {
        let ty = self.scope.trigger.map_or(Ty::Dyn, Ty::Record);
        node(ExprKind::Var(Var::Event), ty, span)
    }

    /// A record type's name used as a value: the event in scope, the profile, or the latest event
    /// of another type.
    fn record_ref(&mut self, id: RecordId, name: &str, span: Span) -> ir::Expr {
        if self.scope.trigger == Some(id) {
            return self.event_var(span);
        }
        if self.ctx.schema.profile == Some(id) && self.scope.profile {
            self.ctx.plan.profile = true;
            return node(ExprKind::Var(Var::Profile), Ty::Record(id), span);
        }
        if self.scope.history {
            self.ctx.plan.latest.insert(id);
            return node(ExprKind::Latest { event: id }, Ty::Record(id), span);
        }
        let d = if self.scope.trigger.is_some() {
            self.error(
                Code::BadTemporal,
                span,
                format!("`{name}` is not available here"),
            )
            .with_help("a filter sees only the event it filters and the profile")
        } else {
            self.error(Code::NotConstant, span, format!("`{name}` is not a constant")).with_help(
                "this must be known when the program is compiled: literals, operators and constants",
            )
        };
        self.report(d);
        error_expr(span)
    }

    fn variant_index(&self, id: u32, name: &str) -> Option<u32> {
        let def = self.ctx.schema.enum_def(id)?;
        def.variants
            .iter()
            .position(|v| v == name)
            .map(|i| i as u32)
    }

    fn unknown_name(&mut self, name: &str, span: Span, hint: Option<&Ty>) {
        if self.ctx.broken.schema || self.ctx.broken.constants.contains(name) {
            return;
        }
        let mut candidates: Vec<String> = Vec::new();
        candidates.extend(self.scope.locals.iter().map(|(n, _)| n.clone()));
        candidates.extend(self.scope.bindings.iter().map(|(n, _)| n.clone()));
        if let Some(record) = self.scope.trigger.and_then(|t| self.ctx.schema.record(t)) {
            candidates.extend(record.fields.iter().map(|f| f.name.clone()));
        }
        candidates.extend(self.ctx.schema.event_types().map(|(_, r)| r.name.clone()));
        candidates.extend(
            self.ctx
                .constant_names()
                .into_iter()
                .filter(|n| !n.contains('.')),
        );
        if self.scope.now {
            candidates.push("now".into());
        }
        if let Some(Ty::Enum(id)) = hint
            && let Some(def) = self.ctx.schema.enum_def(*id)
        {
            candidates.extend(def.variants.iter().cloned());
        }
        let mut d = self
            .error(Code::UnknownName, span, format!("unknown name `{name}`"))
            .with_label("not defined here");
        d.help = did_you_mean(name, candidates.iter().map(String::as_str));
        if d.help.is_none()
            && let Some(Ty::Enum(id)) = hint
            && let Some(def) = self.ctx.schema.enum_def(*id)
        {
            d.help = Some(format!(
                "the variants of `{}` are {}",
                def.name,
                list_names(&def.variants)
            ));
        }
        if d.help.is_none()
            && let Some(owner) = self
                .ctx
                .schema
                .enums
                .iter()
                .find(|e| e.variants.iter().any(|v| v == name))
        {
            d.help = Some(format!(
                "`{name}` is a variant of `{}`: compare that field with it, as in `{} == {name}`",
                owner.name, owner.name
            ));
        }
        self.report(d);
    }

    /// `e` as a namespace (`base64`, `cel.ext`): a dotted name whose first part means nothing
    /// here.
    pub fn namespace(&self, e: &ast::Expr) -> Option<String> {
        let first = Self::first_name(e)?;
        if self.resolves(first) {
            return None;
        }
        Self::dotted(e)
    }

    /// `a.b.c` as one dotted name, when it is made of plain names only.
    pub(crate) fn dotted(e: &ast::Expr) -> Option<String> {
        match &e.kind {
            ast::ExprKind::Ident {
                name,
                global: false,
            } => Some(name.clone()),
            ast::ExprKind::Select {
                base,
                field,
                optional: false,
            } => Some(format!("{}.{}", Self::dotted(base)?, field.name)),
            _ => None,
        }
    }

    fn select(&mut self, base: &ast::Expr, field: &Ident, span: Span) -> ir::Expr {
        if let Some(found) = self.qualified_binding(base, field, span) {
            return found;
        }
        // A dotted name whose first part means nothing here may name a constant of the standard
        // library (`std.telco.roaming_partners`) or a type (`google.protobuf.Timestamp`).
        if let Some(first) = Self::first_name(base)
            && !self.resolves(first)
            && let Some(dotted) = Self::dotted(base).map(|b| format!("{b}.{}", field.name))
        {
            if self.ctx.has_constant(&dotted) {
                return match self.ctx.constant(&dotted, self.file, span) {
                    Some((value, ty)) => ir::Expr::constant(value, ty, span),
                    None => error_expr(span),
                };
            }
            if let Some(ty) = Ty::named(&dotted) {
                return ir::Expr::constant(Value::Type(Arc::new(ty)), Ty::Type, span);
            }
            if first == "std" {
                let names = self.ctx.constant_names();
                let mut d = self
                    .error(
                        Code::UnknownName,
                        span,
                        format!("unknown constant `{dotted}`"),
                    )
                    .with_label("not in the standard library");
                d.help = did_you_mean(&dotted, names.iter().map(String::as_str)).or_else(|| {
                    Some(format!(
                        "is `import {}` missing?",
                        dotted.rsplit_once('.').map_or("std", |(m, _)| m)
                    ))
                });
                self.report(d);
                return error_expr(span);
            }
        }
        let base = self.check(base);
        self.field_of(base, field, span)
    }

    /// `a.b.c` where a binding has a qualified name: the longest prefix that names a binding
    /// (in the container) is the variable, the rest are fields of it. A comprehension variable
    /// named like the first part shadows every qualified name.
    fn qualified_binding(
        &mut self,
        base: &ast::Expr,
        field: &Ident,
        span: Span,
    ) -> Option<ir::Expr> {
        if !self.scope.bindings.iter().any(|(n, _)| n.contains('.')) {
            return None;
        }
        let mut fields: Vec<(&Ident, Span)> = vec![(field, span)];
        let mut cursor = base;
        let (root, global) = loop {
            match &cursor.kind {
                ast::ExprKind::Select {
                    base,
                    field,
                    optional: false,
                } => {
                    fields.push((field, cursor.span));
                    cursor = base;
                }
                ast::ExprKind::Ident { name, global } => break (name, *global),
                _ => return None,
            }
        };
        if !global && self.scope.locals.iter().any(|(n, _)| n == root) {
            return None;
        }
        fields.reverse();
        let root_span = cursor.span;
        for taken in (1..=fields.len()).rev() {
            let mut name = root.clone();
            for (f, _) in fields.iter().take(taken) {
                name.push('.');
                name.push_str(&f.name);
            }
            let Some(i) = self.binding_index(&name, global) else {
                continue;
            };
            let ty = self
                .scope
                .bindings
                .get(i)
                .map_or(Ty::Dyn, |(_, t)| t.clone());
            let var_span = fields.get(taken - 1).map_or(root_span, |(_, s)| *s);
            let mut e = node(ExprKind::Var(Var::Binding(i as u32)), ty, var_span);
            for (f, s) in fields.iter().skip(taken) {
                e = self.field_of(e, f, *s);
            }
            return Some(e);
        }
        None
    }

    fn first_name(e: &ast::Expr) -> Option<&str> {
        match &e.kind {
            ast::ExprKind::Ident {
                name,
                global: false,
            } => Some(name),
            ast::ExprKind::Select {
                base,
                optional: false,
                ..
            } => Self::first_name(base),
            _ => None,
        }
    }

    /// `base.field` on a checked base.
    pub fn field_of(&mut self, base: ir::Expr, field: &Ident, span: Span) -> ir::Expr {
        match &base.ty {
            Ty::Record(id) => {
                let id = *id;
                let Some(record) = self.ctx.schema.record(id) else {
                    return error_expr(span);
                };
                if let Some((slot, def)) = record.field(&field.name) {
                    let ty = def.ty.clone();
                    return node(
                        ExprKind::Field {
                            base: Box::new(base),
                            slot,
                        },
                        ty,
                        span,
                    );
                }
                let names: Vec<String> = record.fields.iter().map(|f| f.name.clone()).collect();
                let record_name = record.name.clone();
                let mut d = self
                    .error(
                        Code::UnknownField,
                        field.span,
                        format!("`{record_name}` has no field `{}`", field.name),
                    )
                    .with_label("unknown field");
                d.help =
                    did_you_mean(&field.name, names.iter().map(String::as_str)).or_else(|| {
                        (!names.is_empty())
                            .then(|| format!("its fields are {}", list_names(&names)))
                    });
                self.report(d);
                error_expr(span)
            }
            Ty::Map(k, v) if k.accepts(&Ty::String) => {
                let ty = v.as_ref().clone();
                node(
                    ExprKind::SelectKey {
                        base: Box::new(base),
                        key: field.name.as_str().into(),
                    },
                    ty,
                    span,
                )
            }
            Ty::Dyn => node(
                ExprKind::SelectKey {
                    base: Box::new(base),
                    key: field.name.as_str().into(),
                },
                Ty::Dyn,
                span,
            ),
            Ty::Error => error_expr(span),
            _ if self.dynamic() => node(
                ExprKind::SelectKey {
                    base: Box::new(base),
                    key: field.name.as_str().into(),
                },
                Ty::Dyn,
                span,
            ),
            Ty::Optional(inner) if !matches!(inner.as_ref(), Ty::Optional(_)) => {
                // Optional chaining: a field of an optional value is an optional field value.
                let inner = inner.as_ref().clone();
                let probe = node(ExprKind::Var(Var::Event), inner, base.span);
                let errors = self.ctx.diagnostics.len();
                let selected = self.field_of(probe, field, span);
                if self.ctx.diagnostics.len() > errors || selected.ty == Ty::Error {
                    return error_expr(span);
                }
                let ty = match selected.ty {
                    Ty::Optional(t) => Ty::Optional(t),
                    t => Ty::optional(t),
                };
                let kind = match selected.kind {
                    ExprKind::Field { slot, .. } => ExprKind::Field {
                        base: Box::new(base),
                        slot,
                    },
                    _ => ExprKind::SelectKey {
                        base: Box::new(base),
                        key: field.name.as_str().into(),
                    },
                };
                node(kind, ty, span)
            }
            Ty::Optional(_) => {
                let d = self
                    .error(Code::TypeMismatch, base.span, format!("this is {}, which has no fields", self.show(&base.ty)))
                    .with_help("read the value with `.value()` or `.orValue(default)` after testing `.hasValue()`");
                self.report(d);
                error_expr(span)
            }
            other => self.no_field(other, field, span),
        }
    }

    fn no_field(&mut self, ty: &Ty, field: &Ident, span: Span) -> ir::Expr {
        let d = self.error(
            Code::TypeMismatch,
            field.span,
            format!("{} has no field `{}`", self.show(ty), field.name),
        );
        self.report(d);
        error_expr(span)
    }

    /// `base.?field`: an optional of the field's value, empty where the key is absent.
    fn optional_select(&mut self, base: &ast::Expr, field: &Ident, span: Span) -> ir::Expr {
        let b = self.check(base);
        let inner = match &b.ty {
            Ty::Optional(inner) => inner.as_ref().clone(),
            other => other.clone(),
        };
        let value = match &inner {
            Ty::Error => return error_expr(span),
            Ty::Map(k, v) if k.accepts(&Ty::String) => v.as_ref().clone(),
            Ty::Record(id) => {
                let found = self
                    .ctx
                    .schema
                    .record(*id)
                    .and_then(|r| r.field(&field.name).map(|(_, f)| f.ty.clone()));
                match found {
                    Some(t) => t,
                    None => {
                        let probe = node(ExprKind::Var(Var::Event), inner.clone(), b.span);
                        self.field_of(probe, field, span);
                        return error_expr(span);
                    }
                }
            }
            Ty::Dyn => Ty::Dyn,
            _ if self.dynamic() => Ty::Dyn,
            other => return self.no_field(other, field, span),
        };
        let ty = match value {
            Ty::Optional(t) => Ty::Optional(t),
            t => Ty::optional(t),
        };
        node(
            ExprKind::OptionalSelect {
                base: Box::new(b),
                key: field.name.as_str().into(),
            },
            ty,
            span,
        )
    }

    /// `?x` in a list or map literal: `x` must be optional.
    fn optional_entry(&mut self, value: ir::Expr) -> ir::Expr {
        let ty = match &value.ty {
            Ty::Optional(_) => value.ty.clone(),
            t if t.is_dynamic() => Ty::optional(Ty::Dyn),
            _ if self.dynamic() => Ty::optional(Ty::Dyn),
            other => {
                let d = self
                    .error(
                        Code::TypeMismatch,
                        value.span,
                        format!(
                            "`?` takes an optional value, and this is {}",
                            self.show(other)
                        ),
                    )
                    .with_help("wrap it as `?optional.of(x)`, or drop the `?`");
                self.report(d);
                return error_expr(value.span);
            }
        };
        let span = value.span;
        node(ExprKind::OptionalEntry(Box::new(value)), ty, span)
    }

    // ------------------------------------------------------------------------------ operators

    fn unary(&mut self, op: UnaryOp, operand: &ast::Expr, span: Span) -> ir::Expr {
        let arg = self.check(operand);
        let ty = match (op, &arg.ty) {
            (_, t) if t.is_dynamic() => t.clone(),
            (UnaryOp::Not, Ty::Bool) => Ty::Bool,
            (UnaryOp::Neg, t @ (Ty::Int | Ty::Double | Ty::Duration | Ty::Money)) => t.clone(),
            _ if self.dynamic() => Ty::Dyn,
            (_, t) => {
                let symbol = if op == UnaryOp::Not { "!" } else { "-" };
                let d = self
                    .error(
                        Code::NoOverload,
                        span,
                        format!("no `{symbol}` for {}", self.show(t)),
                    )
                    .with_label(format!("this is {}", self.show(t)));
                self.report(d);
                Ty::Error
            }
        };
        node(
            ExprKind::Unary {
                op,
                arg: Box::new(arg),
            },
            ty,
            span,
        )
    }

    /// A chain of `&&` (or `||`) as one n-ary node, flattened without recursion.
    fn junction(&mut self, e: &ast::Expr, op: ast::BinaryOp) -> ir::Expr {
        let mut operands_ast: Vec<&ast::Expr> = Vec::new();
        let mut cursor = e;
        while let ast::ExprKind::Binary { op: o, lhs, rhs } = &cursor.kind {
            if *o != op {
                break;
            }
            operands_ast.push(rhs);
            cursor = lhs;
        }
        operands_ast.push(cursor);
        operands_ast.reverse();
        let symbol = op.symbol();
        let operands: Vec<ir::Expr> = operands_ast
            .into_iter()
            .map(|a| {
                let checked = self.check(a);
                self.expect_bool(&checked, &format!("an operand of `{symbol}`"));
                checked
            })
            .collect();
        let kind = if op == ast::BinaryOp::And {
            ExprKind::And(operands)
        } else {
            ExprKind::Or(operands)
        };
        node(kind, Ty::Bool, e.span)
    }

    fn binary(&mut self, op: BinaryOp, lhs: &ast::Expr, rhs: &ast::Expr, span: Span) -> ir::Expr {
        let lhs_is_loose_name =
            matches!(&lhs.kind, ast::ExprKind::Ident { name, .. } if !self.resolves(name));
        let (l, r) = match op {
            BinaryOp::Eq | BinaryOp::Ne if lhs_is_loose_name => {
                let r = self.check(rhs);
                (self.check_hinted(lhs, Some(&r.ty)), r)
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                let l = self.check(lhs);
                let r = self.check_hinted(rhs, Some(&l.ty));
                (l, r)
            }
            BinaryOp::In => {
                let l = self.check(lhs);
                let r = self.check_hinted(rhs, Some(&Ty::list(l.ty.clone())));
                (l, r)
            }
            _ => (self.check(lhs), self.check(rhs)),
        };
        let ty = match binary_type(op, &l.ty, &r.ty) {
            Some(ty) => ty,
            None if self.dynamic() => Ty::Dyn,
            None => {
                self.no_binary_overload(op, &l, &r);
                Ty::Error
            }
        };
        node(
            ExprKind::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty,
            span,
        )
    }

    fn no_binary_overload(&mut self, op: BinaryOp, l: &ir::Expr, r: &ir::Expr) {
        let (lt, rt) = (self.show(&l.ty), self.show(&r.ty));
        let message = match op {
            BinaryOp::Eq | BinaryOp::Ne => format!("cannot compare {lt} with {rt}"),
            BinaryOp::In => format!("cannot look for {lt} in {rt}"),
            _ => format!("no `{}` for {lt} and {rt}", op.symbol()),
        };
        let help = match (&l.ty, &r.ty) {
            (Ty::Optional(_), _) | (_, Ty::Optional(_)) => Some(
                "an optional field may be absent: read it with `.orValue(default)`, or test `has(...)` first"
                    .to_string(),
            ),
            (a, b) if a.is_numeric() && b.is_numeric() => Some(
                "CEL does not convert numbers implicitly: convert one side, as in `double(x)` or `int(x)`"
                    .to_string(),
            ),
            (Ty::Enum(_), Ty::String) | (Ty::String, Ty::Enum(_)) => {
                Some("write the variant without quotes, as in `plan == postpaid`".to_string())
            }
            (Ty::Money, Ty::Double | Ty::Int) | (Ty::Double | Ty::Int, Ty::Money) => {
                Some("write the amount with its currency, as in `9.99 EUR`".to_string())
            }
            _ => None,
        };
        // Labels on the two operands, not on the whole expression: nested spans would make
        // the labels collide.
        let mut d = self
            .error(Code::NoOverload, l.span, message)
            .with_label(format!("this is {lt}"))
            .with_secondary(r.span, format!("this is {rt}"));
        d.help = help;
        self.report(d);
    }

    fn index(
        &mut self,
        base: &ast::Expr,
        index: &ast::Expr,
        optional: bool,
        span: Span,
    ) -> ir::Expr {
        let b = self.check(base);
        let i = self.check(index);
        // An optional base (`m[?k][0]`, `opt[1]`) indexes its value, and the result is optional.
        let (container, chained) = match &b.ty {
            Ty::Optional(inner) => (inner.as_ref().clone(), true),
            other => (other.clone(), false),
        };
        let elem = match (&container, &i.ty) {
            (Ty::Error, _) | (_, Ty::Error) => return error_expr(span),
            (Ty::List(elem), Ty::Int | Ty::Dyn) => Some(elem.as_ref().clone()),
            (Ty::Map(key, value), k) if comparable(key, k) => Some(value.as_ref().clone()),
            (Ty::Dyn, _) => Some(Ty::Dyn),
            _ => None,
        };
        if optional || chained {
            let Some(elem) = elem.or_else(|| self.dynamic().then_some(Ty::Dyn)) else {
                let d = self.error(
                    Code::NoOverload,
                    span,
                    format!(
                        "cannot index {} with {}",
                        self.show(&b.ty),
                        self.show(&i.ty)
                    ),
                );
                self.report(d);
                return error_expr(span);
            };
            let ty = match elem {
                Ty::Optional(t) => Ty::Optional(t),
                t => Ty::optional(t),
            };
            let kind = if optional {
                ExprKind::OptionalIndex {
                    base: Box::new(b),
                    index: Box::new(i),
                }
            } else {
                ExprKind::Index {
                    base: Box::new(b),
                    index: Box::new(i),
                }
            };
            return node(kind, ty, span);
        }
        let ty = match (&b.ty, &i.ty) {
            (Ty::Error, _) | (_, Ty::Error) => Ty::Error,
            (Ty::List(elem), Ty::Int | Ty::Dyn) => elem.as_ref().clone(),
            (Ty::Map(key, value), k) if comparable(key, k) => value.as_ref().clone(),
            (Ty::Dyn, _) => Ty::Dyn,
            _ if self.dynamic() => Ty::Dyn,
            (bt, it) => {
                let d = self.error(
                    Code::NoOverload,
                    span,
                    format!("cannot index {} with {}", self.show(bt), self.show(it)),
                );
                self.report(d);
                Ty::Error
            }
        };
        node(
            ExprKind::Index {
                base: Box::new(b),
                index: Box::new(i),
            },
            ty,
            span,
        )
    }

    /// How to name the field an aggregate of `event` needs: one of its number fields.
    fn aggregate_hint(&self, fname: &str, event: RecordId, event_name: &str) -> String {
        let number = self.ctx.schema.record(event).and_then(|r| {
            r.fields.iter().find(|f| {
                let ty = match &f.ty {
                    Ty::Optional(inner) => inner.as_ref(),
                    other => other,
                };
                matches!(
                    ty,
                    Ty::Int | Ty::Uint | Ty::Double | Ty::Money | Ty::Duration
                )
            })
        });
        match number {
            Some(f) => format!(
                "name the field, keeping your window: `{fname}({event_name}.{}, ...)`",
                f.name
            ),
            None => format!(
                "`{event_name}` has no number field to aggregate; `count` counts its events"
            ),
        }
    }

    /// The record type a message literal names, resolved in the container as CEL resolves
    /// names (`.a.B` from the root only).
    fn record_type(&self, name: &str, global: bool) -> Option<RecordId> {
        self.in_container(name, global, |qualified| {
            self.ctx.schema.record_by_name(qualified).map(|(id, _)| id)
        })
    }

    /// `Type{field: value, ...}`: each field once, of its declared type (an optional field
    /// takes its value's type; `?field: opt` takes an optional of it).
    fn message_literal(
        &mut self,
        name: &ast::Ident,
        global: bool,
        fields: &[ast::FieldInit],
        span: Span,
    ) -> ir::Expr {
        let Some(def) = self
            .record_type(&name.name, global)
            .and_then(|id| Some((id, self.ctx.schema.record(id)?.clone())))
        else {
            if self.dynamic() {
                return self.deferred_error(EvalError::Unbound(name.name.clone()), span);
            }
            let d = self.error(
                Code::UnknownName,
                name.span,
                format!("there is no record type `{}`", name.name),
            );
            self.report(d);
            return error_expr(span);
        };
        let (id, def) = def;
        let mut set: Vec<(u32, ir::Expr)> = Vec::with_capacity(fields.len());
        // After a wrong field the literal is not what was meant: it is reported once, not
        // again by whatever reads it.
        let mut wrong = false;
        for f in fields {
            let Some((slot, field)) = def.field(&f.field.name) else {
                let mut d = self.error(
                    Code::UnknownField,
                    f.field.span,
                    format!("`{}` has no field `{}`", def.name, f.field.name),
                );
                if let Some(hint) = crate::diagnostic::did_you_mean(
                    &f.field.name,
                    def.fields.iter().map(|f| f.name.as_str()),
                ) {
                    d = d.with_help(hint);
                }
                self.report(d);
                wrong = true;
                continue;
            };
            if set.iter().any(|(s, _)| *s == slot) {
                let d = self.error(
                    Code::Duplicate,
                    f.field.span,
                    format!("the field `{}` is set twice", f.field.name),
                );
                self.report(d);
                wrong = true;
                continue;
            }
            let want = match &field.ty {
                Ty::Optional(inner) => inner.as_ref().clone(),
                other => other.clone(),
            };
            let value = self.check_hinted(&f.value, Some(&want));
            let value = if f.optional {
                self.optional_entry(value)
            } else {
                value
            };
            if !want.accepts(entry_type(&value)) && !self.dynamic() {
                let (want, got) = (self.show(&want), self.show(entry_type(&value)));
                let d = self.error(
                    Code::TypeMismatch,
                    value.span,
                    format!(
                        "`{}.{}` is {} {want}, not {} {got}",
                        def.name,
                        f.field.name,
                        article(&want),
                        article(&got)
                    ),
                );
                self.report(d);
                wrong = true;
            }
            set.push((slot, value));
        }
        if wrong {
            return error_expr(span);
        }
        node(
            ExprKind::Record {
                record: id,
                size: def.fields.len() as u32,
                fields: set,
            },
            Ty::Record(id),
            span,
        )
    }

    fn map_literal(&mut self, entries: &[ast::MapEntry], span: Span) -> ir::Expr {
        let mut checked = Vec::with_capacity(entries.len());
        for entry in entries {
            let key = self.check(&entry.key);
            if !matches!(
                key.ty,
                Ty::String | Ty::Int | Ty::Uint | Ty::Bool | Ty::Dyn | Ty::Error
            ) && !self.dynamic()
            {
                let d = self.error(
                    Code::TypeMismatch,
                    key.span,
                    format!(
                        "a map key must be a string, int, uint or bool, not {}",
                        self.show(&key.ty)
                    ),
                );
                self.report(d);
            }
            let value = self.check_flexible(&entry.value, None);
            let value = if entry.optional {
                self.optional_entry(value)
            } else {
                value
            };
            checked.push((key, value));
        }
        let (key_ty, value_ty) = match checked.is_empty() {
            true => (Ty::Free, Ty::Free),
            false => (
                join_all(checked.iter().map(|(k, _)| &k.ty)),
                join_all(checked.iter().map(|(_, v)| entry_type(v))),
            ),
        };
        for (_, v) in &mut checked {
            v.ty = v.ty.settled();
        }
        node(ExprKind::Map(checked), Ty::map(key_ty, value_ty), span)
    }

    // ------------------------------------------------------------------------------ comprehensions

    /// A reference to the local `name` (a `cel.block` slot or iteration variable).
    pub fn local_named(&mut self, name: &str, span: Span) -> ir::Expr {
        match self.scope.locals.iter().rposition(|(n, _)| n == name) {
            Some(i) => {
                let ty = self.scope.locals.get(i).map_or(Ty::Dyn, |(_, t)| t.clone());
                node(ExprKind::Var(Var::Local(i as u32)), ty, span)
            }
            None => {
                let shown = shown_reference(name);
                let earlier = self
                    .scope
                    .locals
                    .iter()
                    .filter(|(n, _)| n.starts_with("@index"))
                    .count();
                let d = self
                    .error(
                        Code::UnknownName,
                        span,
                        format!("`{shown}` is not bound here"),
                    )
                    .with_help(format!(
                        "`cel.index(i)` refers to an earlier expression of its `cel.block`; \
                         {earlier} {} before this one",
                        if earlier == 1 { "comes" } else { "come" }
                    ));
                self.report(d);
                error_expr(span)
            }
        }
    }

    /// Checks `body` with a new comprehension variable in scope; returns the variable's number.
    pub fn with_local<T>(
        &mut self,
        name: &str,
        ty: Ty,
        body: impl FnOnce(&mut Self, u32) -> T,
    ) -> T {
        let index = self.scope.locals.len() as u32;
        self.scope.locals.push((name.to_string(), ty));
        let out = body(self, index);
        self.scope.locals.pop();
        out
    }

    // ------------------------------------------------------------------------------ temporal forms

    fn temporal(&mut self, t: &Temporal, span: Span) -> ir::Expr {
        let fname = t.func.name();
        if !self.scope.history {
            let help = if self.scope.trigger.is_some() {
                "a filter sees only the event it filters: move the condition into the rule"
            } else {
                "only rules and offers read a customer's history"
            };
            let d = self
                .error(
                    Code::BadTemporal,
                    t.func_span,
                    format!("`{fname}` reads a customer's history, which is not available here"),
                )
                .with_help(help);
            self.report(d);
            return error_expr(span);
        }
        let Some(event) = self.ctx.expect_event(self.file, &t.event) else {
            return error_expr(span);
        };
        let event_name = self.ctx.record_name(event).to_string();
        match t.func {
            TemporalFn::Last | TemporalFn::Since | TemporalFn::Seen => {
                if let Some(extra) = t.filter.as_deref().or(t.window.as_deref()) {
                    let d = self
                        .error(
                            Code::BadTemporal,
                            extra.span,
                            format!("`{fname}` takes only an event type"),
                        )
                        .with_help(format!("write `{fname}({event_name})`"));
                    self.report(d);
                }
                self.ctx.plan.latest.insert(event);
                match t.func {
                    TemporalFn::Since => node(ExprKind::Since { event }, Ty::Duration, span),
                    TemporalFn::Seen => node(ExprKind::Seen { event }, Ty::Bool, span),
                    _ => {
                        let previous = node(ExprKind::Previous { event }, Ty::Record(event), span);
                        match &t.field {
                            Some(field) => self.field_of(previous, field, span),
                            None => previous,
                        }
                    }
                }
            }
            TemporalFn::Count
            | TemporalFn::Sum
            | TemporalFn::Min
            | TemporalFn::Max
            | TemporalFn::Avg => self.aggregate(t, event, &event_name, span),
        }
    }

    fn aggregate(
        &mut self,
        t: &Temporal,
        event: RecordId,
        event_name: &str,
        span: Span,
    ) -> ir::Expr {
        let fname = t.func.name();
        let func = match t.func {
            TemporalFn::Count => AggregateFn::Count,
            TemporalFn::Sum => AggregateFn::Sum,
            TemporalFn::Min => AggregateFn::Min,
            TemporalFn::Max => AggregateFn::Max,
            _ => AggregateFn::Avg,
        };
        let mut ok = true;
        let (slot, value_ty) = match (&t.field, func) {
            (Some(field), AggregateFn::Count) => {
                let d = self
                    .error(Code::BadTemporal, field.span, "`count` counts events, not a field")
                    .with_help(format!("write `count({event_name})`, or filter with `count({event_name} where ...)`"));
                self.report(d);
                (None, None)
            }
            (None, AggregateFn::Count) => (None, None),
            (None, _) => {
                let d = self
                    .error(
                        Code::BadTemporal,
                        t.event.span,
                        format!("`{fname}` needs a field to aggregate"),
                    )
                    .with_help(self.aggregate_hint(fname, event, event_name));
                self.report(d);
                return error_expr(span);
            }
            (Some(field), _) => {
                let event_expr = node(ExprKind::Var(Var::Event), Ty::Record(event), t.event.span);
                let selected = self.field_of(event_expr, field, field.span);
                let ExprKind::Field { slot, .. } = selected.kind else {
                    return error_expr(span);
                };
                let inner = match &selected.ty {
                    Ty::Optional(inner) => inner.as_ref().clone(),
                    other => other.clone(),
                };
                if !matches!(
                    inner,
                    Ty::Int | Ty::Uint | Ty::Double | Ty::Money | Ty::Duration
                ) {
                    let d = self.error(
                        Code::BadTemporal,
                        field.span,
                        format!(
                            "`{fname}` needs a number, money or duration field, and `{}` is {}",
                            field.name,
                            self.show(&inner)
                        ),
                    );
                    self.report(d);
                    ok = false;
                }
                (Some(slot), Some(inner))
            }
        };
        let filter = t.filter.as_deref().map(|f| {
            let saved = std::mem::replace(&mut self.scope, Scope::series_filter(event));
            let checked = self.check(f);
            self.scope = saved;
            self.expect_bool(&checked, "a filter");
            crate::fold::fold(checked, &self.ctx.schema)
        });
        let window = match t.window.as_deref() {
            None => None,
            Some(w) => match self.constant_duration(w) {
                Some(d) => Some(d),
                None => {
                    ok = false;
                    None
                }
            },
        };
        if !ok {
            return error_expr(span);
        }
        let result = match (func, &value_ty) {
            (AggregateFn::Count, _) => Ty::Int,
            (AggregateFn::Avg, Some(Ty::Int | Ty::Uint | Ty::Double)) => Ty::Double,
            (_, Some(ty)) => ty.clone(),
            (_, None) => Ty::Error,
        };
        let series = self.ctx.plan.series(
            Series {
                event,
                filter,
                field: slot,
                value_ty,
                retention: None,
            },
            window,
        );
        node(
            ExprKind::Aggregate {
                func,
                series,
                window,
            },
            result,
            span,
        )
    }

    /// A window: an expression that folds to a positive duration.
    fn constant_duration(&mut self, w: &ast::Expr) -> Option<crate::value::Nanos> {
        let saved = std::mem::replace(&mut self.scope, Scope::constant());
        let checked = self.check(w);
        self.scope = saved;
        if checked.ty == Ty::Error {
            return None;
        }
        let folded = crate::fold::fold(checked, &self.ctx.schema);
        match folded.as_const() {
            Some(Value::Duration(d)) if *d > 0 => Some(*d),
            Some(Value::Duration(_)) => {
                let d = self.error(
                    Code::BadTemporal,
                    w.span,
                    "a window must be longer than zero",
                );
                self.report(d);
                None
            }
            _ => {
                let d = self
                    .error(
                        Code::NotConstant,
                        w.span,
                        "a window must be a constant duration",
                    )
                    .with_help("write it as `30m`, `7d` or `90d`");
                self.report(d);
                None
            }
        }
    }
}

fn literal(lit: &Literal, span: Span) -> ir::Expr {
    let (value, ty) = match lit {
        Literal::Null => (Value::Null, Ty::Null),
        Literal::Bool(b) => (Value::Bool(*b), Ty::Bool),
        Literal::Int(i) => (Value::Int(*i), Ty::Int),
        Literal::Uint(u) => (Value::Uint(*u), Ty::Uint),
        Literal::Double(d) => (Value::Double(*d), Ty::Double),
        Literal::String(s) => (Value::string(s.as_str()), Ty::String),
        Literal::Bytes(b) => (Value::Bytes(b.as_slice().into()), Ty::Bytes),
        Literal::Duration(d) => (Value::Duration(*d), Ty::Duration),
        Literal::Timestamp(t) => (Value::Timestamp(*t), Ty::Timestamp),
        Literal::Money(m) => (Value::Money(*m), Ty::Money),
    };
    ir::Expr::constant(value, ty, span)
}

/// A `cel.block` local as it was written: `@index1` is `cel.index(1)`.
fn shown_reference(local: &str) -> String {
    if let Some(n) = local.strip_prefix("@index") {
        return format!("cel.index({n})");
    }
    for (prefix, func) in [("@it", "iterVar"), ("@ac", "accuVar")] {
        if let Some((a, b)) = local.strip_prefix(prefix).and_then(|r| r.split_once(':')) {
            return format!("cel.{func}({a}, {b})");
        }
    }
    local.to_string()
}

fn contains_free(ty: &Ty) -> bool {
    match ty {
        Ty::Free => true,
        Ty::List(e) | Ty::Optional(e) => contains_free(e),
        Ty::Map(k, v) => contains_free(k) || contains_free(v),
        _ => false,
    }
}

/// The type an element of a list literal (or a map entry's value) adds: for `?x`, the type of
/// the optional's value.
/// "a" or "an" before a type's name: "an int", "a uint", "an optional<string>".
fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o') => "an",
        _ => "a",
    }
}

fn entry_type(e: &ir::Expr) -> &Ty {
    match (&e.kind, &e.ty) {
        (ExprKind::OptionalEntry(_), Ty::Optional(inner)) => inner,
        _ => &e.ty,
    }
}

fn join_all<'t>(mut types: impl Iterator<Item = &'t Ty>) -> Ty {
    let Some(first) = types.next() else {
        return Ty::Dyn;
    };
    types.fold(first.clone(), |acc, t| acc.join(t))
}

/// Whether `==` between the two types can ever be true (CEL compares numbers across kinds).
pub(crate) fn comparable(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        _ if a.is_dynamic() || b.is_dynamic() => true,
        (Ty::Null, _) | (_, Ty::Null) => true,
        _ if a.is_numeric() && b.is_numeric() => true,
        (Ty::List(x), Ty::List(y)) | (Ty::Optional(x), Ty::Optional(y)) => comparable(x, y),
        (Ty::Map(k1, v1), Ty::Map(k2, v2)) => comparable(k1, k2) && comparable(v1, v2),
        (Ty::Abstract(x), Ty::Abstract(y)) => {
            x.name == y.name
                && x.args.len() == y.args.len()
                && x.args.iter().zip(&y.args).all(|(p, q)| comparable(p, q))
        }
        _ => a == b,
    }
}

fn ordered(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        _ if a.is_dynamic() || b.is_dynamic() => true,
        _ if a.is_numeric() && b.is_numeric() => true,
        _ => {
            a == b
                && matches!(
                    a,
                    Ty::String | Ty::Bytes | Ty::Bool | Ty::Timestamp | Ty::Duration | Ty::Money
                )
        }
    }
}

/// The result type of a binary operator (not `&&`/`||`), or `None` when no overload fits.
pub(crate) fn binary_type(op: BinaryOp, l: &Ty, r: &Ty) -> Option<Ty> {
    use Ty::*;
    if *l == Error || *r == Error {
        return Some(Error);
    }
    match op {
        BinaryOp::Eq | BinaryOp::Ne => comparable(l, r).then_some(Bool),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => ordered(l, r).then_some(Bool),
        BinaryOp::In => match r {
            List(elem) => comparable(l, elem).then_some(Bool),
            Map(key, _) => comparable(l, key).then_some(Bool),
            Dyn => Some(Bool),
            _ => None,
        },
        BinaryOp::And | BinaryOp::Or => (Bool.accepts(l) && Bool.accepts(r)).then_some(Bool),
        _ if *l == Dyn || *r == Dyn => Some(Dyn),
        BinaryOp::Add => match (l, r) {
            (Int, Int)
            | (Uint, Uint)
            | (Double, Double)
            | (String, String)
            | (Bytes, Bytes)
            | (Duration, Duration)
            | (Money, Money) => Some(l.clone()),
            (Timestamp, Duration) | (Duration, Timestamp) => Some(Timestamp),
            (List(a), List(b)) => Some(Ty::list(a.join(b))),
            _ => None,
        },
        BinaryOp::Sub => match (l, r) {
            (Int, Int)
            | (Uint, Uint)
            | (Double, Double)
            | (Duration, Duration)
            | (Money, Money) => Some(l.clone()),
            (Timestamp, Timestamp) => Some(Duration),
            (Timestamp, Duration) => Some(Timestamp),
            _ => None,
        },
        BinaryOp::Mul => match (l, r) {
            (Int, Int) | (Uint, Uint) | (Double, Double) => Some(l.clone()),
            (Money, Int | Double) | (Int | Double, Money) => Some(Money),
            _ => None,
        },
        BinaryOp::Div => match (l, r) {
            (Int, Int) | (Uint, Uint) | (Double, Double) => Some(l.clone()),
            (Money, Int) => Some(Money),
            _ => None,
        },
        BinaryOp::Rem => match (l, r) {
            (Int, Int) | (Uint, Uint) => Some(l.clone()),
            _ => None,
        },
    }
}
