//! IR to Cranelift: one native function per expression (or per part of a matcher), over the
//! scalar part of the language (bools, ints, uints, doubles, enums, timestamps, durations,
//! strings, bytes, money, and optionals of them).
//!
//! Every compiled node yields an [`Out`]: an error flag beside its value's words. An error flag
//! means "no value of the static type": a CEL error, or an input of another kind than its static
//! type. `&&`, `||` absorb it as CEL does; anything else passes it on, and a flagged result sends
//! the whole evaluation back to the interpreter, which then says exactly what the error is. So
//! native code only ever has to be right about values, never about error messages.
//!
//! What native code reads from outside (a field of the event, an aggregate, a binding) is an
//! *input*: a sub-expression that the interpreter evaluates without spending any of its budget,
//! loaded into a slot before the call. What it does not compute itself on scalars (conversions,
//! time arithmetic, comparisons across kinds) it asks of the reference evaluator through a *site*
//! call. Anything else (lists, maps, comprehensions, building strings) is not compiled, and the
//! interpreter runs that expression.

use crate::abi::{self, Site, SiteOp};
use crate::layout::{HI, Kind, LO, PRESENT, Repr, SLOT_BYTES, STATUS, Slot};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::Ieee64;
use cranelift_codegen::ir::{
    self, AbiParam, BlockArg, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, types,
};
use cranelift_frontend::FunctionBuilder;
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Module};
use offer_compiler::eval;
use offer_compiler::ir::{BinaryOp, Expr, ExprKind, Func, UnaryOp, Var};
use offer_compiler::types::Ty;
use offer_compiler::value::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Why an expression is left to the interpreter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not compiled: {0}")]
pub struct Unsupported(pub String);

fn unsupported<T>(what: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(what.into()))
}

/// A sub-expression whose value the host loads into an input slot before the call.
#[derive(Debug)]
pub struct Input {
    pub expr: Expr,
    pub repr: Repr,
    pub source: Source,
}

/// Where an input's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A field of the event, by slot: read in place from the record the environment lends.
    Event(u32),
    /// A field of the profile, likewise.
    Profile(u32),
    /// Anything else: the interpreter evaluates it.
    Interpreted,
}

impl Source {
    fn of(e: &Expr) -> Source {
        match &e.kind {
            ExprKind::Field { base, slot } => match base.kind {
                ExprKind::Var(Var::Event) => Source::Event(*slot),
                ExprKind::Var(Var::Profile) => Source::Profile(*slot),
                _ => Source::Interpreted,
            },
            _ => Source::Interpreted,
        }
    }
}

/// An upper bound on the budget steps the interpreter would spend on the expression: `fixed`,
/// plus `string_reads` times the cost of the longest string input. While it is within
/// [`eval::EVAL_BUDGET`], the interpreter could not have run out, so native code needs no
/// budget of its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bound {
    pub fixed: u64,
    pub string_reads: u64,
}

impl Bound {
    /// Whether the interpreter's budget holds for inputs whose longest string costs
    /// `longest_string`.
    pub fn within(&self, longest_string: u64) -> bool {
        self.fixed
            .saturating_add(self.string_reads.saturating_mul(longest_string))
            <= eval::EVAL_BUDGET
    }
}

/// Everything compiled code refers to, owned beside it for as long as it may run.
#[derive(Debug, Default)]
#[allow(
    clippy::vec_box,
    reason = "compiled code holds the addresses of sites and regexes: boxed, they stay put while the vectors grow"
)]
pub struct Owned {
    pub inputs: Vec<Input>,
    /// Each input's place by what it reads (its type and shape), so that one read twice is
    /// loaded once.
    input_places: HashMap<String, usize>,
    pub sites: Vec<Box<Site>>,
    /// The constant strings and bytes compiled code points into.
    pub borrowed: Vec<Borrowed>,
    pub regexes: Vec<Box<regex::Regex>>,
    /// Per expression compiled into the function: its budget bound.
    pub bounds: Vec<Bound>,
    /// For a matcher, per condition it was given: whether it is in the function.
    pub members: Vec<bool>,
    /// For a matcher, the conditions left out (by place) and why.
    pub left_out: Vec<(usize, Unsupported)>,
}

/// A constant whose bytes compiled code points into.
#[derive(Debug)]
pub enum Borrowed {
    Str(Arc<str>),
    Bytes(Arc<[u8]>),
}

impl Borrowed {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Borrowed::Str(s) => s.as_bytes(),
            Borrowed::Bytes(b) => b,
        }
    }
}

/// The host functions compiled code calls, declared in the module.
#[derive(Clone, Copy, Debug)]
pub struct Helpers {
    pub site: FuncId,
    pub bytes_cmp: FuncId,
    pub str_test: FuncId,
    pub str_size: FuncId,
    pub str_matches: FuncId,
    pub input: FuncId,
}

/// The helpers' names, signatures (I64 words in, an I8/I64 or nothing out) and addresses.
pub fn helper_symbols() -> [(&'static str, usize, Option<ir::Type>, *const u8); 6] {
    [
        ("offer_jit_site", 3, None, abi::site_call as *const u8),
        (
            "offer_jit_bytes_cmp",
            4,
            Some(types::I64),
            abi::bytes_cmp as *const u8,
        ),
        (
            "offer_jit_str_test",
            5,
            Some(types::I8),
            abi::str_test as *const u8,
        ),
        (
            "offer_jit_str_size",
            2,
            Some(types::I64),
            abi::str_size as *const u8,
        ),
        (
            "offer_jit_str_matches",
            3,
            Some(types::I8),
            abi::str_matches as *const u8,
        ),
        ("offer_jit_input", 3, None, abi::input_call as *const u8),
    ]
}

/// One compiled node: its error flag (I8, 1 for no value) and its value's words.
#[derive(Clone, Copy, Debug)]
struct Out {
    err: ir::Value,
    /// I8, 1 when an optional holds a value; `None` for a plain value.
    present: Option<ir::Value>,
    /// I8 for bools, I64 for ints, uints, enums and a string's pointer, F64 for doubles, I128
    /// for timestamps and durations.
    lo: ir::Value,
    /// A string's length.
    hi: Option<ir::Value>,
    repr: Repr,
    /// For a constant: its words (a string's pointer is into the expression's own constants).
    constant: Option<Slot>,
}

/// The Cranelift type of a kind's `lo` word.
fn lo_type(kind: Kind) -> ir::Type {
    match kind {
        Kind::Bool => types::I8,
        Kind::Int | Kind::Uint | Kind::Enum(_) | Kind::String | Kind::Bytes | Kind::Money => {
            types::I64
        }
        Kind::Double => types::F64,
        Kind::Timestamp | Kind::Duration => types::I128,
    }
}

/// The words of a representation, in the order block parameters carry them.
fn words(repr: Repr) -> Vec<ir::Type> {
    let mut w = vec![types::I8];
    if repr.optional {
        w.push(types::I8);
    }
    w.push(lo_type(repr.kind));
    if repr.kind.wide() {
        w.push(types::I64);
    }
    w
}

pub struct Gen<'a, 'b> {
    pub b: FunctionBuilder<'a>,
    pub module: &'b mut JITModule,
    pub helpers: Helpers,
    inputs_ptr: ir::Value,
    /// The host's loader of inputs read on demand (the third parameter).
    loader_ptr: ir::Value,
    refs: HashMap<FuncId, ir::FuncRef>,
    locals: HashMap<u32, Out>,
    /// Sub-expressions a matcher's conditions share, computed once in its entry block (which
    /// every condition's code follows): by shape, their value and the budget their evaluation
    /// would charge each reader.
    shared: HashMap<String, (Out, Bound)>,
    owned: Owned,
    /// The budget bound of the expression being compiled.
    bound: Bound,
    /// The cost of the longest constant string in the expression: what any string operand that
    /// is not itself a constant may cost at most, beyond the string inputs.
    longest_constant: u64,
}

const FLAGS: MemFlagsData = MemFlagsData::trusted();

/// Constant strings up to this long are compared in line rather than by a helper call.
const INLINE_STRING_BYTES: u64 = 16;

/// `x in [...]` over a constant list of up to this many elements compares in line; a longer
/// list is searched by the reference evaluator (a 4,000-string list compared in line took
/// Cranelift 1.5 s and 160 MB).
const INLINE_LIST_ELEMENTS: usize = 16;

/// The most instructions one function may have: past it, Cranelift's time and memory grow
/// faster than the function, and the interpreter runs the expression instead.
const MAX_INSTRUCTIONS: usize = 10_000;

impl<'a, 'b> Gen<'a, 'b> {
    /// Compiles `e` into the function `b` builds: `fn(inputs: *const Slot, out: *mut Slot,
    /// loader: *mut Loader)`, with the result's representation. Fields of the event and the
    /// profile are in `inputs`; every other input is asked of `loader` where it is read.
    pub fn function(
        b: FunctionBuilder<'a>,
        module: &'b mut JITModule,
        helpers: Helpers,
        e: &Expr,
    ) -> Result<(Owned, Repr), Unsupported> {
        let result =
            Repr::of(&e.ty).ok_or_else(|| Unsupported(format!("gives {}", describe(&e.ty))))?;
        let (mut g, out_ptr) = Gen::start(b, module, helpers, &[e])?;
        let out = g.expr(e)?;
        if out.repr != result {
            return unsupported("gives a value of another kind than its type");
        }
        g.store(out, out_ptr, 0);
        g.owned.bounds.push(g.bound);
        Ok((g.finish(), result))
    }

    /// Compiles bool conditions into one function, `fn(inputs: *const Slot, out: *mut u8,
    /// loader: *mut Loader)`,
    /// that writes a byte per condition: 0 false, 1 true, 2 no value. The conditions share
    /// their inputs, loaded once for all of them. Every condition must compile on its own
    /// (see [`Gen::function`]).
    ///
    /// `owned` is what earlier parts of the same matcher hold: the inputs this part reads too
    /// are theirs (one slot array serves every part).
    pub fn matcher(
        b: FunctionBuilder<'a>,
        module: &'b mut JITModule,
        helpers: Helpers,
        conditions: &[&Expr],
        owned: Owned,
    ) -> Result<Owned, Unsupported> {
        let (mut g, out_ptr) = Gen::start(b, module, helpers, conditions)?;
        g.owned = owned;
        g.share(conditions)?;
        for (i, c) in conditions.iter().enumerate() {
            g.bound = Bound::default();
            let out = g.expr(c)?;
            if out.repr != Repr::plain(Kind::Bool) {
                return unsupported("has a condition that is not a bool");
            }
            let no_value = g.b.ins().iconst(types::I8, 2);
            let byte = g.b.ins().select(out.err, no_value, out.lo);
            let offset = i32::try_from(i).map_err(|_| Unsupported("too many conditions".into()))?;
            g.b.ins().store(FLAGS, byte, out_ptr, offset);
            g.owned.bounds.push(g.bound);
        }
        Ok(g.finish())
    }

    /// The entry block and the generator over it; the function's second parameter.
    fn start(
        mut b: FunctionBuilder<'a>,
        module: &'b mut JITModule,
        helpers: Helpers,
        exprs: &[&Expr],
    ) -> Result<(Gen<'a, 'b>, ir::Value), Unsupported> {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let (Some(&inputs_ptr), Some(&out_ptr), Some(&loader_ptr)) =
            (params.first(), params.get(1), params.get(2))
        else {
            return unsupported("a function without its parameters");
        };
        let mut longest_constant = 0;
        for e in exprs {
            eval::visit(e, &mut |node| {
                if let ExprKind::Const(v) = &node.kind {
                    longest_constant = longest_constant.max(longest_string(v));
                }
            });
        }
        let g = Gen {
            b,
            module,
            helpers,
            inputs_ptr,
            loader_ptr,
            refs: HashMap::new(),
            locals: HashMap::new(),
            shared: HashMap::new(),
            owned: Owned::default(),
            bound: Bound::default(),
            longest_constant,
        };
        Ok((g, out_ptr))
    }

    fn finish(mut self) -> Owned {
        self.b.ins().return_(&[]);
        self.b.seal_all_blocks();
        let config = self.module.target_config();
        self.b.finalize(config);
        self.owned
    }

    /// Computes, once and first, the straight-line sub-expressions that several conditions
    /// contain (`count % 7` in every rule, `plan == 'p3'` in a tenth of them): as a rule engine
    /// shares its tests. Computing a pure expression early changes no result, and each reader
    /// is still charged its budget.
    fn share(&mut self, conditions: &[&Expr]) -> Result<(), Unsupported> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut order: Vec<(String, &Expr)> = Vec::new();
        for c in conditions {
            post_order(c, &mut |node| {
                if let Some(key) = shape(node) {
                    let n = seen.entry(key.clone()).or_insert(0);
                    *n += 1;
                    if *n == 2 {
                        order.push((key, node));
                    }
                }
            });
        }
        for (key, node) in order {
            let outer = std::mem::take(&mut self.bound);
            let out = self.expr(node)?;
            let charged = std::mem::replace(&mut self.bound, outer);
            self.shared.insert(key, (out, charged));
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<Out, Unsupported> {
        if self.b.func.dfg.num_insts() > MAX_INSTRUCTIONS {
            return unsupported("is too large for native code");
        }
        if !self.shared.is_empty()
            && let Some((out, charged)) = shape(e).and_then(|key| self.shared.get(&key))
        {
            let (out, charged) = (*out, *charged);
            self.bound.fixed = self.bound.fixed.saturating_add(charged.fixed);
            self.bound.string_reads = self.bound.string_reads.saturating_add(charged.string_reads);
            return Ok(out);
        }
        let Some(repr) = Repr::of(&e.ty) else {
            return unsupported(format!("uses {}", describe(&e.ty)));
        };
        match &e.kind {
            ExprKind::Const(v) => self.constant(v, repr),
            ExprKind::Var(Var::Local(i)) => match self.locals.get(i) {
                Some(out) => Ok(*out),
                None => unsupported("uses a comprehension's variable"),
            },
            _ if is_input(e) => Ok(self.input(e, repr)),
            ExprKind::Unary { op, arg } => self.unary(*op, arg, repr),
            ExprKind::Binary {
                op: op @ (BinaryOp::And | BinaryOp::Or),
                lhs,
                rhs,
            } => self.junction([lhs.as_ref(), rhs.as_ref()], *op == BinaryOp::Or),
            ExprKind::Binary {
                op: BinaryOp::In,
                lhs,
                rhs,
            } => self.membership(lhs, rhs),
            ExprKind::Binary { op, lhs, rhs } => {
                let out = self.binary(*op, lhs, rhs, repr)?;
                if *op == BinaryOp::Add {
                    // `+` builds its result, which costs what it is.
                    self.read(out);
                }
                Ok(out)
            }
            ExprKind::And(items) => self.junction(items, false),
            ExprKind::Or(items) => self.junction(items, true),
            ExprKind::Cond {
                cond,
                then,
                otherwise,
            } => self.cond(cond, then, otherwise, repr),
            ExprKind::Let { var, value, body } => {
                let v = self.expr(value)?;
                let shadowed = self.locals.insert(*var, v);
                let out = self.expr(body);
                match shadowed {
                    Some(old) => self.locals.insert(*var, old),
                    None => self.locals.remove(var),
                };
                out
            }
            ExprKind::Call { func, args } => {
                let out = self.call(*func, args, repr)?;
                // A call builds its result, which costs what it is.
                self.read(out);
                Ok(out)
            }
            ExprKind::Matches { arg, pattern } => {
                let s = self.expr(arg)?;
                if s.repr != Repr::plain(Kind::String) {
                    return unsupported("calls `matches` on a value that is not a string");
                }
                let Ok(re) = offer_compiler::value::ops::compile_regex(pattern) else {
                    return unsupported("has a pattern that does not compile");
                };
                self.read(s);
                let re = Box::new(re);
                let re_ptr = self.iconst(&*re as *const regex::Regex as i64);
                self.owned.regexes.push(re);
                let hi = self.hi(s)?;
                let r = self.helper(self.helpers.str_matches, &[re_ptr, s.lo, hi])?;
                Ok(self.plain(s.err, r, Kind::Bool))
            }
            _ => unsupported(node_name(&e.kind)),
        }
    }

    // -- values ---------------------------------------------------------------------------

    fn iconst(&mut self, v: i64) -> ir::Value {
        self.b.ins().iconst(types::I64, v)
    }

    fn flag(&mut self, v: bool) -> ir::Value {
        self.b.ins().iconst(types::I8, i64::from(v))
    }

    fn plain(&self, err: ir::Value, lo: ir::Value, kind: Kind) -> Out {
        Out {
            err,
            present: None,
            lo,
            hi: None,
            repr: Repr::plain(kind),
            constant: None,
        }
    }

    fn hi(&self, out: Out) -> Result<ir::Value, Unsupported> {
        out.hi
            .ok_or_else(|| Unsupported("a string without its length".into()))
    }

    fn or(&mut self, a: ir::Value, b: ir::Value) -> ir::Value {
        self.b.ins().bor(a, b)
    }

    /// A constant in representation `repr`, through the slot it would load as.
    fn constant(&mut self, v: &Value, repr: Repr) -> Result<Out, Unsupported> {
        let slot = Slot::load(v, repr);
        let mut out = self.constant_words(repr, &slot);
        // The pointer in the slot is into this constant; holding it keeps the bytes alive.
        let held = match (repr.kind, v) {
            (Kind::String, Value::String(s)) => Some(Borrowed::Str(s.clone())),
            (Kind::Bytes, Value::Bytes(b)) => Some(Borrowed::Bytes(b.clone())),
            (_, Value::Optional(Some(inner))) => match (repr.kind, inner.as_ref()) {
                (Kind::String, Value::String(s)) => Some(Borrowed::Str(s.clone())),
                (Kind::Bytes, Value::Bytes(b)) => Some(Borrowed::Bytes(b.clone())),
                _ => None,
            },
            _ => None,
        };
        self.owned.borrowed.extend(held);
        if slot.status == 0 {
            out.constant = Some(slot);
        }
        Ok(out)
    }

    /// Constant words.
    fn constant_words(&mut self, repr: Repr, slot: &Slot) -> Out {
        let err = self.flag(slot.status != 0);
        let present = repr.optional.then(|| self.flag(slot.present != 0));
        let lo = match repr.kind {
            Kind::Bool => self.b.ins().iconst(types::I8, i64::from(slot.lo != 0)),
            Kind::Double => self.b.ins().f64const(Ieee64::with_bits(slot.lo)),
            Kind::Timestamp | Kind::Duration => {
                let lo = self.iconst(slot.lo as i64);
                let hi = self.iconst(slot.hi as i64);
                self.b.ins().iconcat(lo, hi)
            }
            Kind::Int | Kind::Uint | Kind::Enum(_) | Kind::String | Kind::Bytes | Kind::Money => {
                self.iconst(slot.lo as i64)
            }
        };
        let hi = repr.kind.wide().then(|| self.iconst(slot.hi as i64));
        Out {
            err,
            present,
            lo,
            hi,
            repr,
            constant: None,
        }
    }

    /// Reads a slot at `base + offset`.
    fn load(&mut self, base: ir::Value, offset: i32, repr: Repr) -> Out {
        let word = |g: &mut Self, at: i32| g.b.ins().load(types::I64, FLAGS, base, offset + at);
        let nonzero = |g: &mut Self, at: i32| {
            let w = word(g, at);
            g.b.ins().icmp_imm_s(IntCC::NotEqual, w, 0)
        };
        let err = nonzero(self, STATUS);
        let present = repr.optional.then(|| nonzero(self, PRESENT));
        let lo = match repr.kind {
            Kind::Bool => nonzero(self, LO),
            Kind::Double => self.b.ins().load(types::F64, FLAGS, base, offset + LO),
            Kind::Timestamp | Kind::Duration => {
                let lo = word(self, LO);
                let hi = word(self, HI);
                self.b.ins().iconcat(lo, hi)
            }
            Kind::Int | Kind::Uint | Kind::Enum(_) | Kind::String | Kind::Bytes | Kind::Money => {
                word(self, LO)
            }
        };
        let hi = repr.kind.wide().then(|| word(self, HI));
        Out {
            err,
            present,
            lo,
            hi,
            repr,
            constant: None,
        }
    }

    /// Writes `out` as a slot at `base + offset`.
    fn store(&mut self, out: Out, base: ir::Value, offset: i32) {
        let status = self.b.ins().uextend(types::I64, out.err);
        self.b.ins().store(FLAGS, status, base, offset + STATUS);
        let present = match out.present {
            Some(p) => self.b.ins().uextend(types::I64, p),
            None => self.iconst(1),
        };
        self.b.ins().store(FLAGS, present, base, offset + PRESENT);
        match out.repr.kind {
            Kind::Bool => {
                let lo = self.b.ins().uextend(types::I64, out.lo);
                self.b.ins().store(FLAGS, lo, base, offset + LO);
            }
            Kind::Timestamp | Kind::Duration => {
                let (lo, hi) = self.b.ins().isplit(out.lo);
                self.b.ins().store(FLAGS, lo, base, offset + LO);
                self.b.ins().store(FLAGS, hi, base, offset + HI);
            }
            Kind::Int
            | Kind::Uint
            | Kind::Enum(_)
            | Kind::Double
            | Kind::String
            | Kind::Bytes
            | Kind::Money => {
                self.b.ins().store(FLAGS, out.lo, base, offset + LO);
            }
        }
        if let Some(hi) = out.hi {
            self.b.ins().store(FLAGS, hi, base, offset + HI);
        }
    }

    /// A sub-expression the host evaluates: the same one read twice is one input.
    fn input(&mut self, e: &Expr, repr: Repr) -> Out {
        let key = input_shape(e).map(|shape| format!("{}:{shape}", e.ty));
        let index = match key.as_ref().and_then(|k| self.owned.input_places.get(k)) {
            Some(&i) => i,
            None => {
                self.owned.inputs.push(Input {
                    expr: e.clone(),
                    repr,
                    source: Source::of(e),
                });
                let i = self.owned.inputs.len() - 1;
                if let Some(k) = key {
                    self.owned.input_places.insert(k, i);
                }
                i
            }
        };
        if Source::of(e) == Source::Interpreted {
            // Read on demand, where the code gets to it: an aggregate behind a false `&&` is
            // never computed.
            let frame = self.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                SLOT_BYTES,
                3,
            ));
            let at = self.b.ins().stack_addr(types::I64, frame, 0);
            let index = self.iconst(index as i64);
            let r = self.func_ref(self.helpers.input);
            self.b.ins().call(r, &[self.loader_ptr, index, at]);
            return self.load(at, 0, repr);
        }
        let offset = (index as u32 * SLOT_BYTES) as i32;
        self.load(self.inputs_ptr, offset, repr)
    }

    fn block_args(out: &Out) -> Vec<BlockArg> {
        std::iter::once(out.err)
            .chain(out.present)
            .chain([out.lo])
            .chain(out.hi)
            .map(BlockArg::Value)
            .collect()
    }

    fn block_out(&self, block: ir::Block, repr: Repr) -> Result<Out, Unsupported> {
        let mut at = self.b.block_params(block).iter().copied();
        let err = at.next();
        let present = if repr.optional { at.next() } else { None };
        let lo = at.next();
        let hi = if repr.kind.wide() { at.next() } else { None };
        match (err, lo) {
            (Some(err), Some(lo)) => Ok(Out {
                err,
                present,
                lo,
                hi,
                repr,
                constant: None,
            }),
            _ => unsupported("a block without its parameters"),
        }
    }

    fn merge_block(&mut self, repr: Repr) -> ir::Block {
        let block = self.b.create_block();
        for ty in words(repr) {
            self.b.append_block_param(block, ty);
        }
        block
    }

    // -- the budget bound -----------------------------------------------------------------

    /// What the interpreter charges for reading `out` as an operand.
    fn read(&mut self, out: Out) {
        let optional = u64::from(out.repr.optional);
        let bound = &mut self.bound;
        match (out.repr.kind, out.constant) {
            // A string costs a step and one per 16 bytes (`eval::cost`).
            (Kind::String | Kind::Bytes, Some(c)) => {
                bound.fixed = bound.fixed.saturating_add(1 + c.hi / 16 + optional)
            }
            (Kind::String | Kind::Bytes, None) => {
                bound.fixed = bound.fixed.saturating_add(self.longest_constant + optional);
                bound.string_reads += 1;
            }
            _ => bound.fixed = bound.fixed.saturating_add(1 + optional),
        }
    }

    fn charge(&mut self, steps: u64) {
        self.bound.fixed = self.bound.fixed.saturating_add(steps);
    }

    // -- operators ------------------------------------------------------------------------

    fn unary(&mut self, op: UnaryOp, arg: &Expr, repr: Repr) -> Result<Out, Unsupported> {
        let a = self.expr(arg)?;
        match (op, a.repr) {
            (UnaryOp::Not, r) if r == Repr::plain(Kind::Bool) => {
                let lo = self.b.ins().bxor_imm_u(a.lo, 1);
                Ok(self.plain(a.err, lo, Kind::Bool))
            }
            (UnaryOp::Neg, r) if r == Repr::plain(Kind::Int) => {
                let zero = self.iconst(0);
                let (lo, overflow) = self.b.ins().ssub_overflow(zero, a.lo);
                let err = self.or(a.err, overflow);
                Ok(self.plain(err, lo, Kind::Int))
            }
            (UnaryOp::Neg, r) if r == Repr::plain(Kind::Double) => {
                let lo = self.b.ins().fneg(a.lo);
                Ok(self.plain(a.err, lo, Kind::Double))
            }
            _ => self.site(SiteOp::Unary(op), &[a], repr),
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        lhs: &Expr,
        rhs: &Expr,
        repr: Repr,
    ) -> Result<Out, Unsupported> {
        let a = self.expr(lhs)?;
        let b = self.expr(rhs)?;
        self.read(a);
        self.read(b);
        let err = self.or(a.err, b.err);
        if a.repr != b.repr || a.repr.optional {
            return self.site(SiteOp::Binary(op), &[a, b], repr);
        }
        let (x, y) = (a.lo, b.lo);
        let i = self.b.ins();
        let native = match (a.repr.kind, op) {
            (Kind::Int, BinaryOp::Add) => Some(i.sadd_overflow(x, y)),
            (Kind::Int, BinaryOp::Sub) => Some(i.ssub_overflow(x, y)),
            (Kind::Int, BinaryOp::Mul) => Some(i.smul_overflow(x, y)),
            (Kind::Uint, BinaryOp::Add) => Some(i.uadd_overflow(x, y)),
            (Kind::Uint, BinaryOp::Sub) => Some(i.usub_overflow(x, y)),
            (Kind::Uint, BinaryOp::Mul) => Some(i.umul_overflow(x, y)),
            _ => None,
        };
        if let Some((lo, overflow)) = native {
            let err = self.or(err, overflow);
            return Ok(self.plain(err, lo, a.repr.kind));
        }
        match (a.repr.kind, op) {
            (Kind::Int | Kind::Uint, BinaryOp::Div | BinaryOp::Rem) => {
                let divisor = b.constant.map(|c| c.lo);
                self.division(a.repr.kind, op, err, x, y, divisor)
            }
            (Kind::Double, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div) => {
                let i = self.b.ins();
                let lo = match op {
                    BinaryOp::Add => i.fadd(x, y),
                    BinaryOp::Sub => i.fsub(x, y),
                    BinaryOp::Mul => i.fmul(x, y),
                    _ => i.fdiv(x, y),
                };
                Ok(self.plain(err, lo, Kind::Double))
            }
            (Kind::Double, _) if comparison(op).is_some() => {
                let cc = match op {
                    BinaryOp::Eq => FloatCC::Equal,
                    BinaryOp::Ne => FloatCC::NotEqual,
                    BinaryOp::Lt => FloatCC::LessThan,
                    BinaryOp::Le => FloatCC::LessThanOrEqual,
                    BinaryOp::Gt => FloatCC::GreaterThan,
                    _ => FloatCC::GreaterThanOrEqual,
                };
                let lo = self.b.ins().fcmp(cc, x, y);
                Ok(self.plain(err, lo, Kind::Bool))
            }
            (Kind::String | Kind::Bytes, BinaryOp::Eq | BinaryOp::Ne) => {
                let equal = self.equal(a, b)?;
                let lo = match op {
                    BinaryOp::Eq => equal,
                    _ => self.b.ins().bxor_imm_u(equal, 1),
                };
                Ok(self.plain(err, lo, Kind::Bool))
            }
            (Kind::String | Kind::Bytes, _) if comparison(op).is_some() => {
                let (Some(xl), Some(yl)) = (a.hi, b.hi) else {
                    return unsupported("a string without its length");
                };
                let order = self.helper(self.helpers.bytes_cmp, &[x, xl, y, yl])?;
                let cc = comparison(op).unwrap_or(IntCC::Equal);
                let lo = self.b.ins().icmp_imm_s(signed(cc), order, 0);
                Ok(self.plain(err, lo, Kind::Bool))
            }
            (Kind::Enum(_), BinaryOp::Eq | BinaryOp::Ne)
            | (Kind::Int | Kind::Uint | Kind::Bool | Kind::Timestamp | Kind::Duration, _)
                if comparison(op).is_some() =>
            {
                let cc = comparison(op).unwrap_or(IntCC::Equal);
                let cc = if a.repr.kind == Kind::Int
                    || matches!(a.repr.kind, Kind::Timestamp | Kind::Duration)
                {
                    signed(cc)
                } else {
                    cc
                };
                let lo = self.b.ins().icmp(cc, x, y);
                Ok(self.plain(err, lo, Kind::Bool))
            }
            (Kind::String, BinaryOp::Add) => unsupported("concatenates strings"),
            (Kind::Bytes, BinaryOp::Add) => unsupported("concatenates bytes"),
            _ => self.site(SiteOp::Binary(op), &[a, b], repr),
        }
    }

    /// `/` and `%` on ints and uints: by zero, and `MIN / -1`, are errors, and the divisor is
    /// replaced by 1 there so that the instruction cannot trap. A constant divisor that can do
    /// neither needs no guard (and the instruction can become a multiplication).
    fn division(
        &mut self,
        kind: Kind,
        op: BinaryOp,
        err: ir::Value,
        x: ir::Value,
        y: ir::Value,
        divisor: Option<u64>,
    ) -> Result<Out, Unsupported> {
        let safe_constant = match (kind, divisor) {
            (_, Some(0)) | (_, None) => false,
            (Kind::Int, Some(d)) => d as i64 != -1,
            (_, Some(_)) => true,
        };
        let (safe, err) = if safe_constant {
            (y, err)
        } else {
            let mut bad = self.b.ins().icmp_imm_s(IntCC::Equal, y, 0);
            if kind == Kind::Int {
                let min = self.b.ins().icmp_imm_s(IntCC::Equal, x, i64::MIN);
                let minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let both = self.b.ins().band(min, minus_one);
                bad = self.or(bad, both);
            }
            let one = self.iconst(1);
            let safe = self.b.ins().select(bad, one, y);
            (safe, self.or(err, bad))
        };
        let i = self.b.ins();
        let lo = match (kind, op) {
            (Kind::Int, BinaryOp::Div) => i.sdiv(x, safe),
            (Kind::Int, _) => i.srem(x, safe),
            (_, BinaryOp::Div) => i.udiv(x, safe),
            _ => i.urem(x, safe),
        };
        Ok(self.plain(err, lo, kind))
    }

    /// `x in [a, b, ...]` over a list literal of `x`'s kind, or a constant list of it (a
    /// folded literal): `x == a || x == b || ...`, an error when `x` or an element is one (the
    /// literal is then that error).
    fn membership(&mut self, lhs: &Expr, rhs: &Expr) -> Result<Out, Unsupported> {
        let x = self.expr(lhs)?;
        if x.repr.optional {
            return unsupported("asks `in` of an optional");
        }
        self.read(x);
        let mut err = x.err;
        let mut found = self.flag(false);
        match &rhs.kind {
            ExprKind::List(items) => {
                // The literal is built (its cost), then read through by `in` (its cost again).
                self.charge(2);
                for item in items {
                    let y = self.expr(item)?;
                    if y.repr != x.repr {
                        return unsupported("asks `in` over elements of another kind");
                    }
                    self.read(y);
                    self.read(y);
                    err = self.or(err, y.err);
                    let equal = self.equal(x, y)?;
                    found = self.or(found, equal);
                }
            }
            ExprKind::Const(list @ Value::List(items)) if items.len() > INLINE_LIST_ELEMENTS => {
                self.charge(eval::cost(list, u64::MAX));
                return self.site(
                    SiteOp::InConstant(list.clone()),
                    &[x],
                    Repr::plain(Kind::Bool),
                );
            }
            ExprKind::Const(list @ Value::List(items)) => {
                self.charge(eval::cost(list, u64::MAX));
                for item in items.iter() {
                    let y = self.constant(item, x.repr)?;
                    if y.constant.is_none() {
                        return unsupported("asks `in` over elements of another kind");
                    }
                    let equal = self.equal(x, y)?;
                    found = self.or(found, equal);
                }
            }
            _ => return unsupported("asks `in` of a list or map that is not written out"),
        }
        Ok(self.plain(err, found, Kind::Bool))
    }

    /// `x == y` for two values of one plain kind (CEL's equality within a kind).
    fn equal(&mut self, x: Out, y: Out) -> Result<ir::Value, Unsupported> {
        Ok(match x.repr.kind {
            Kind::Money => return unsupported("asks `in` over money"),
            Kind::Double => self.b.ins().fcmp(FloatCC::Equal, x.lo, y.lo),
            Kind::String | Kind::Bytes => {
                let (xl, yl) = (self.hi(x)?, self.hi(y)?);
                let same_length = self.b.ins().icmp(IntCC::Equal, xl, yl);
                let short = |o: &Out| {
                    o.constant
                        .filter(|c| c.hi <= INLINE_STRING_BYTES)
                        .and_then(|c| {
                            self.owned
                                .borrowed
                                .iter()
                                .find(|s| s.as_bytes().as_ptr() as u64 == c.lo)
                        })
                        .map(|b| b.as_bytes().to_vec())
                };
                let (short_x, short_y) = (short(&x), short(&y));
                if let Some((c, c_ptr, other)) = short_x
                    .map(|c| (c, x.lo, y.lo))
                    .or_else(|| short_y.map(|c| (c, y.lo, x.lo)))
                {
                    // Without a branch: where the lengths differ, the constant is compared with
                    // itself (both pointers hold that many bytes) and the length decides.
                    let at = self.b.ins().select(same_length, other, c_ptr);
                    let bytes = self.bytes_equal(at, &c);
                    return Ok(self.b.ins().band(same_length, bytes));
                }
                // Strings of other lengths differ: only equal lengths need their bytes compared.
                let (compare, done) = (self.b.create_block(), self.b.create_block());
                self.b.append_block_param(done, types::I8);
                let differ = self.flag(false);
                self.b
                    .ins()
                    .brif(same_length, compare, &[], done, &[BlockArg::Value(differ)]);
                self.b.switch_to_block(compare);
                let order = self.helper(self.helpers.bytes_cmp, &[x.lo, xl, y.lo, yl])?;
                let equal = self.b.ins().icmp_imm_s(IntCC::Equal, order, 0);
                self.b.ins().jump(done, &[BlockArg::Value(equal)]);
                self.b.switch_to_block(done);
                self.b
                    .block_params(done)
                    .first()
                    .copied()
                    .ok_or_else(|| Unsupported("a block without its parameter".into()))?
            }
            _ => self.b.ins().icmp(IntCC::Equal, x.lo, y.lo),
        })
    }

    /// Whether the `bytes.len()` bytes at `ptr` are `bytes`, by loads of 8, 4, 2 and 1 bytes
    /// (never past the end: the caller has checked the length).
    fn bytes_equal(&mut self, ptr: ir::Value, bytes: &[u8]) -> ir::Value {
        let unaligned = MemFlagsData::new().with_notrap();
        let mut equal = self.flag(true);
        let mut at = 0usize;
        while at < bytes.len() {
            let width = [8usize, 4, 2, 1]
                .into_iter()
                .find(|w| at + w <= bytes.len())
                .unwrap_or(1);
            let ty = match width {
                8 => types::I64,
                4 => types::I32,
                2 => types::I16,
                _ => types::I8,
            };
            let mut word = [0u8; 8];
            if let (Some(dst), Some(src)) = (word.get_mut(..width), bytes.get(at..at + width)) {
                dst.copy_from_slice(src);
            }
            let expected = i64::from_ne_bytes(word);
            let loaded = self.b.ins().load(ty, unaligned, ptr, at as i32);
            let same = self.b.ins().icmp_imm_u(IntCC::Equal, loaded, expected);
            equal = self.b.ins().band(equal, same);
            at += width;
        }
        equal
    }

    /// `&&` (`absorbing` false) and `||` (`absorbing` true), left to right: the absorbing
    /// value decides the whole, and a branch before each further operand skips the rest once
    /// it is there; otherwise any error makes the result an error. (Computing cheap operands
    /// without branches compiled 15% faster but matched 12% slower on the matching benchmark.)
    fn junction<'e>(
        &mut self,
        operands: impl IntoIterator<Item = &'e Expr>,
        absorbing: bool,
    ) -> Result<Out, Unsupported> {
        let done = self.merge_block(Repr::plain(Kind::Bool));
        let mut decided = self.flag(false);
        let mut errors = self.flag(false);
        for (i, operand) in operands.into_iter().enumerate() {
            // A shared operand is already computed: skipping it would save nothing.
            let computed = !self.shared.is_empty()
                && shape(operand).is_some_and(|key| self.shared.contains_key(&key));
            if i > 0 && !computed {
                let next = self.b.create_block();
                let no_error = self.flag(false);
                let value = self.flag(absorbing);
                self.b.ins().brif(
                    decided,
                    done,
                    &[BlockArg::Value(no_error), BlockArg::Value(value)],
                    next,
                    &[],
                );
                self.b.switch_to_block(next);
            }
            let v = self.expr(operand)?;
            if v.repr != Repr::plain(Kind::Bool) {
                return unsupported("joins values that are not bools with `&&` or `||`");
            }
            let hits = if absorbing {
                v.lo
            } else {
                self.b.ins().bxor_imm_u(v.lo, 1)
            };
            let ok = self.b.ins().bxor_imm_u(v.err, 1);
            let hits = self.b.ins().band(hits, ok);
            decided = self.or(decided, hits);
            errors = self.or(errors, v.err);
        }
        let undecided = self.b.ins().bxor_imm_u(decided, 1);
        let value = if absorbing { decided } else { undecided };
        let err = self.b.ins().band(errors, undecided);
        self.b
            .ins()
            .jump(done, &[BlockArg::Value(err), BlockArg::Value(value)]);
        self.b.switch_to_block(done);
        self.block_out(done, Repr::plain(Kind::Bool))
    }

    fn cond(
        &mut self,
        cond: &Expr,
        then: &Expr,
        otherwise: &Expr,
        repr: Repr,
    ) -> Result<Out, Unsupported> {
        let c = self.expr(cond)?;
        if c.repr != Repr::plain(Kind::Bool) {
            return unsupported("has a condition that is not a bool");
        }
        let (then_block, else_block) = (self.b.create_block(), self.b.create_block());
        let done = self.merge_block(repr);
        // With an erroneous condition either branch may run: the error flag decides the result.
        self.b.ins().brif(c.lo, then_block, &[], else_block, &[]);
        for (block, branch) in [(then_block, then), (else_block, otherwise)] {
            self.b.switch_to_block(block);
            let mut v = self.expr(branch)?;
            if v.repr != repr {
                return unsupported("has branches of other kinds than their result");
            }
            v.err = self.or(v.err, c.err);
            let args = Self::block_args(&v);
            self.b.ins().jump(done, &args);
        }
        self.b.switch_to_block(done);
        self.block_out(done, repr)
    }

    fn call(&mut self, func: Func, args: &[Expr], repr: Repr) -> Result<Out, Unsupported> {
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.expr(a)?);
        }
        if eval::reads_through(func) {
            for v in &values {
                self.read(*v);
            }
        } else {
            self.charge(1);
        }
        let string = Repr::plain(Kind::String);
        match (func, values.as_slice()) {
            (Func::OptionalHasValue, [o]) if o.repr.optional => {
                let present = o.present.unwrap_or(o.err);
                Ok(self.plain(o.err, present, Kind::Bool))
            }
            (Func::OptionalValue, [o]) if o.repr.optional && repr == Repr::plain(o.repr.kind) => {
                let present = o.present.unwrap_or(o.err);
                let absent = self.b.ins().bxor_imm_u(present, 1);
                let err = self.or(o.err, absent);
                Ok(Out {
                    err,
                    present: None,
                    repr,
                    constant: None,
                    ..*o
                })
            }
            (Func::OptionalOrValue, [o, d])
                if o.repr.optional && d.repr == repr && repr == Repr::plain(o.repr.kind) =>
            {
                let present = o.present.unwrap_or(o.err);
                let absent = self.b.ins().bxor_imm_u(present, 1);
                let default_err = self.b.ins().band(absent, d.err);
                let err = self.or(o.err, default_err);
                let lo = self.b.ins().select(present, o.lo, d.lo);
                let hi = match (o.hi, d.hi) {
                    (Some(x), Some(y)) => Some(self.b.ins().select(present, x, y)),
                    _ => None,
                };
                Ok(Out {
                    err,
                    present: None,
                    lo,
                    hi,
                    repr,
                    constant: None,
                })
            }
            (Func::OptionalOf, [v]) if !v.repr.optional && repr.optional => {
                let present = self.flag(true);
                Ok(Out {
                    present: Some(present),
                    repr,
                    constant: None,
                    ..*v
                })
            }
            (Func::Size, [s]) if s.repr == string => {
                let hi = self.hi(*s)?;
                let n = self.helper(self.helpers.str_size, &[s.lo, hi])?;
                Ok(self.plain(s.err, n, Kind::Int))
            }
            (Func::Contains | Func::StartsWith | Func::EndsWith, [s, t])
                if s.repr == string && t.repr == string =>
            {
                let test = match func {
                    Func::Contains => abi::CONTAINS,
                    Func::StartsWith => abi::STARTS_WITH,
                    _ => abi::ENDS_WITH,
                };
                let test = self.iconst(test);
                let (sl, tl) = (self.hi(*s)?, self.hi(*t)?);
                let r = self.helper(self.helpers.str_test, &[test, s.lo, sl, t.lo, tl])?;
                let err = self.or(s.err, t.err);
                Ok(self.plain(err, r, Kind::Bool))
            }
            (Func::MatchesDynamic, _) => {
                unsupported("calls `matches` with a pattern computed at run time")
            }
            (Func::Size, [b]) if b.repr == Repr::plain(Kind::Bytes) => {
                let n = self.hi(*b)?;
                Ok(self.plain(b.err, n, Kind::Int))
            }
            _ if repr.kind == Kind::String => unsupported("calls a function that builds a string"),
            _ if repr.kind == Kind::Bytes => unsupported("calls a function that builds bytes"),
            _ => self.site(SiteOp::Call(func), &values, repr),
        }
    }

    // -- calls to the host ----------------------------------------------------------------

    fn func_ref(&mut self, id: FuncId) -> ir::FuncRef {
        if let Some(r) = self.refs.get(&id) {
            return *r;
        }
        let r = self.module.declare_func_in_func(id, self.b.func);
        self.refs.insert(id, r);
        r
    }

    fn helper(&mut self, id: FuncId, args: &[ir::Value]) -> Result<ir::Value, Unsupported> {
        let r = self.func_ref(id);
        let call = self.b.ins().call(r, args);
        self.b
            .inst_results(call)
            .first()
            .copied()
            .ok_or_else(|| Unsupported("a helper without its result".into()))
    }

    /// The reference evaluator's `op` on `args`, through memory: the arguments are written as
    /// slots on the stack, and the result read back from one.
    fn site(&mut self, op: SiteOp, args: &[Out], repr: Repr) -> Result<Out, Unsupported> {
        if repr.kind.borrows() {
            return unsupported("builds a string or bytes");
        }
        let site = Box::new(Site {
            op,
            args: args.iter().map(|a| a.repr).collect(),
            result: repr,
        });
        let site_ptr = self.iconst(&*site as *const Site as i64);
        self.owned.sites.push(site);
        let bytes = SLOT_BYTES * (args.len() as u32 + 1);
        let frame = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            bytes,
            3,
        ));
        let base = self.b.ins().stack_addr(types::I64, frame, 0);
        for (i, a) in args.iter().enumerate() {
            self.store(*a, base, (i as u32 * SLOT_BYTES) as i32);
        }
        let out_offset = (args.len() as u32 * SLOT_BYTES) as i32;
        let out_ptr = self.b.ins().iadd_imm_s(base, i64::from(out_offset));
        let r = self.func_ref(self.helpers.site);
        self.b.ins().call(r, &[site_ptr, base, out_ptr]);
        Ok(self.load(base, out_offset, repr))
    }
}

/// The budget cost of the longest string in a constant, wherever it sits (an optional's value,
/// a list's element): what reading a string taken out of it may cost.
fn longest_string(v: &Value) -> u64 {
    match v {
        Value::String(_) | Value::Bytes(_) => eval::cost(v, u64::MAX),
        Value::Optional(Some(inner)) => longest_string(inner),
        Value::List(items) => items.iter().map(longest_string).max().unwrap_or(0),
        Value::Map(m) => m.entries.values().map(longest_string).max().unwrap_or(0),
        Value::Record(r) => r
            .fields
            .iter()
            .flatten()
            .map(longest_string)
            .max()
            .unwrap_or(0),
        _ => 0,
    }
}

/// The integer condition of a comparison operator.
fn comparison(op: BinaryOp) -> Option<IntCC> {
    Some(match op {
        BinaryOp::Eq => IntCC::Equal,
        BinaryOp::Ne => IntCC::NotEqual,
        BinaryOp::Lt => IntCC::UnsignedLessThan,
        BinaryOp::Le => IntCC::UnsignedLessThanOrEqual,
        BinaryOp::Gt => IntCC::UnsignedGreaterThan,
        BinaryOp::Ge => IntCC::UnsignedGreaterThanOrEqual,
        _ => return None,
    })
}

fn signed(cc: IntCC) -> IntCC {
    match cc {
        IntCC::UnsignedLessThan => IntCC::SignedLessThan,
        IntCC::UnsignedLessThanOrEqual => IntCC::SignedLessThanOrEqual,
        IntCC::UnsignedGreaterThan => IntCC::SignedGreaterThan,
        IntCC::UnsignedGreaterThanOrEqual => IntCC::SignedGreaterThanOrEqual,
        other => other,
    }
}

/// Whether the interpreter evaluates `e` without spending budget: variables, fields, keys and
/// indexes of them, the customer's history. Such a node, of a type native code holds, is loaded
/// as an input; reading it early (before a `&&` might have skipped it) changes nothing.
fn is_input(e: &Expr) -> bool {
    free(e) && !matches!(e.kind, ExprKind::Const(_))
}

fn free(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Const(_)
        | ExprKind::Aggregate { .. }
        | ExprKind::Latest { .. }
        | ExprKind::Previous { .. }
        | ExprKind::Since { .. }
        | ExprKind::Seen { .. } => true,
        // A comprehension's or `cel.bind`'s variable lives in native code, not in the host.
        ExprKind::Var(v) => !matches!(v, Var::Local(_)),
        ExprKind::Field { base, .. }
        | ExprKind::HasField { base, .. }
        | ExprKind::SelectKey { base, .. }
        | ExprKind::HasKey { base, .. }
        | ExprKind::OptionalSelect { base, .. } => free(base),
        ExprKind::Index { base, index } | ExprKind::OptionalIndex { base, index } => {
            free(base) && free(index)
        }
        _ => false,
    }
}

/// Calls `f` on every node of `e`, children before parents.
fn post_order<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    for child in eval::children(e) {
        post_order(child, f);
    }
    f(e);
}

/// The shape of a straight-line expression over fields and constants (no branches, no
/// variables of `cel.bind`, no inputs the interpreter evaluates), spans aside: two nodes of one shape compute one value. `None` for
/// anything else, and for leaves, which cost nothing to repeat.
fn shape(e: &Expr) -> Option<String> {
    fn write(e: &Expr, out: &mut String, depth: usize) -> Option<()> {
        use std::fmt::Write as _;
        if depth > 4 {
            return None;
        }
        match &e.kind {
            // Debug, not Display: `-0.0` and `0.0` are different constants.
            ExprKind::Const(v) => {
                let _ = write!(out, "({}:{v:?})", e.ty);
            }
            // Only fields: sharing computes early, and an input the interpreter evaluates (an
            // aggregate) is better left to be read where needed (and only once: the loader
            // keeps what it read).
            _ if is_input(e) && Source::of(e) != Source::Interpreted => {
                let _ = write!(out, "(in:{}:{:?})", e.ty, input_shape(e)?);
            }
            ExprKind::Unary { op, arg } => {
                let _ = write!(out, "({op:?} ");
                write(arg, out, depth + 1)?;
                out.push(')');
            }
            ExprKind::Binary { op, lhs, rhs } if !matches!(op, BinaryOp::And | BinaryOp::Or) => {
                let _ = write!(out, "({op:?} ");
                write(lhs, out, depth + 1)?;
                out.push(' ');
                write(rhs, out, depth + 1)?;
                out.push(')');
            }
            _ => return None,
        }
        Some(())
    }
    if !matches!(e.kind, ExprKind::Unary { .. } | ExprKind::Binary { .. }) {
        return None;
    }
    let mut out = String::new();
    write(e, &mut out, 0)?;
    Some(out)
}

/// What an input reads, spans aside: two inputs of one type and shape read the same thing.
fn input_shape(e: &Expr) -> Option<String> {
    Some(match &e.kind {
        ExprKind::Var(v) => format!("{v:?}"),
        ExprKind::Field { base, slot } => format!("{}.{slot}", input_shape(base)?),
        ExprKind::HasField { base, slot } => format!("has({}.{slot})", input_shape(base)?),
        ExprKind::SelectKey { base, key } => format!("{}[{key:?}]", input_shape(base)?),
        ExprKind::HasKey { base, key } => format!("has({}[{key:?}])", input_shape(base)?),
        ExprKind::Aggregate {
            func,
            series,
            window,
        } => format!("{func:?}({series},{window:?})"),
        ExprKind::Latest { event } => format!("latest({event})"),
        ExprKind::Previous { event } => format!("previous({event})"),
        ExprKind::Since { event } => format!("since({event})"),
        ExprKind::Seen { event } => format!("seen({event})"),
        _ => return None,
    })
}

fn node_name(kind: &ExprKind) -> &'static str {
    match kind {
        ExprKind::List(_) => "builds a list",
        ExprKind::Map(_) => "builds a map",
        ExprKind::Record { .. } => "builds a record",
        ExprKind::Comprehension(_) => "uses a comprehension",
        ExprKind::OptionalEntry(_) => "uses an optional entry",
        ExprKind::Var(_) => "reads a variable of a kind native code does not hold",
        ExprKind::Field { .. } | ExprKind::SelectKey { .. } | ExprKind::OptionalSelect { .. } => {
            "selects a field of a computed value"
        }
        ExprKind::HasField { .. } | ExprKind::HasKey { .. } => "asks `has()` of a computed value",
        ExprKind::Index { .. } | ExprKind::OptionalIndex { .. } => "indexes a computed value",
        _ => "uses an expression native code does not compile",
    }
}

/// A type in words, for saying what native code does not hold: `lists`, `optionals of maps`.
pub fn describe(ty: &Ty) -> String {
    match ty {
        Ty::List(_) => "lists".into(),
        Ty::Map(_, _) => "maps".into(),
        Ty::Record(_) => "records".into(),
        Ty::Dyn | Ty::Free | Ty::Param(_) | Ty::Error => "values of type `dyn`".into(),
        Ty::Optional(inner) => format!("optionals of {}", describe(inner)),
        Ty::Type => "type values".into(),
        Ty::Null => "`null`".into(),
        Ty::Timezone => "time zones".into(),
        Ty::Ip | Ty::Cidr => "IP addresses and prefixes".into(),
        Ty::Abstract(_) => "host types".into(),
        other => format!("values of type {other}"),
    }
}

/// The parameter list every compiled function and helper signature is made of.
pub fn words_param(n: usize) -> Vec<AbiParam> {
    vec![AbiParam::new(types::I64); n]
}
