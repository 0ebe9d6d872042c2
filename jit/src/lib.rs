//! Native code for Offer expressions, compiled with Cranelift: the runtime's fast tier beside
//! the reference interpreter of `offer_compiler::eval`.
//!
//! [`Jit`] compiles what it can of a program's expressions into one module: an expression into
//! a [`NativeExpr`], the conditions of the rules one event type triggers into one [`Matcher`]
//! (their inputs loaded once, what they share computed once); the rest stay with the
//! interpreter. Native code computes values only: when a result would be an error (or an input
//! is not of its static type), it hands the evaluation to the interpreter, which gives the error
//! with its message. Results are therefore the interpreter's by construction on errors, and by
//! the differential tests (`tests/parity.rs`, the conformance suite's native columns, the
//! corpus and the examples replayed in both tiers) on values.

mod abi;
mod codegen;
mod layout;

pub use codegen::Unsupported;
use layout::{Kind, Repr};

use abi::{Code, EntryPoint};
use codegen::{Gen, Helpers, Owned, Source};
use cranelift_codegen::ir::{AbiParam, UserFuncName, types};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};
use layout::{NOT_A_VALUE, Slot};
use offer_compiler::eval::{Env, Evaluator};
use offer_compiler::ir::Expr;
use offer_compiler::schema::Schema;
use offer_compiler::value::{RecordValue, Value};
use std::ops::Deref;
use std::sync::Arc;

/// The JIT could not be set up on this machine (or failed to emit code): the interpreter runs
/// everything.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the JIT is not available: {0}")]
pub struct JitError(pub String);

fn jit_error(e: impl std::fmt::Display) -> JitError {
    JitError(e.to_string())
}

/// What was linked: a [`Shape`] with addresses instead of function ids.
enum Linked {
    Expr(EntryPoint, Repr),
    Matcher(Vec<(EntryPoint, usize)>),
}

/// What was compiled: an expression's function, or a matcher's parts.
#[derive(Debug)]
enum Shape {
    Expr(FuncId, Repr),
    /// Each part's function and how many conditions it writes.
    Matcher(Vec<(FuncId, usize)>),
}

/// The most conditions, and instructions, one function of a matcher holds. Cranelift's time
/// grows faster than the size of a function, so a matcher of thousands of rules is compiled in
/// parts (5,000 rules took 1.5 s in one function and 0.4 s in parts of 64); the parts share the
/// inputs.
const MATCHER_PART: usize = 64;
const MATCHER_PART_INSTRUCTIONS: usize = 8_000;

/// The conditions in parts of at most `MATCHER_PART` conditions and, where conditions are
/// small enough, `MATCHER_PART_INSTRUCTIONS` instructions; in order.
fn matcher_parts<'e>(included: &[(&'e Expr, usize)]) -> Vec<Vec<&'e Expr>> {
    let mut parts: Vec<Vec<&Expr>> = Vec::new();
    let mut size = 0;
    for &(c, n) in included {
        match parts.last_mut() {
            Some(part) if part.len() < MATCHER_PART && size + n <= MATCHER_PART_INSTRUCTIONS => {
                part.push(c);
                size += n;
            }
            _ => {
                parts.push(vec![c]);
                size = n;
            }
        }
    }
    parts
}

/// Compiles expressions into one module of native code.
pub struct Jit {
    module: JITModule,
    ctx: cranelift_codegen::Context,
    builder: FunctionBuilderContext,
    helpers: Helpers,
    compiled: Vec<(Owned, Shape)>,
}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit")
            .field("compiled", &self.compiled.len())
            .finish_non_exhaustive()
    }
}

/// What [`Jit::finish`] gives back: the expressions and the matchers, each in the order
/// compiled.
#[derive(Debug, Default)]
pub struct Compiled {
    pub exprs: Vec<NativeExpr>,
    pub matchers: Vec<Matcher>,
}

impl Jit {
    pub fn new() -> Result<Jit, JitError> {
        let mut flags = settings::builder();
        for (name, value) in [
            ("use_colocated_libcalls", "false"),
            ("is_pic", "false"),
            ("opt_level", "speed"),
            // The verifier checks the code generator's IR; debug builds (the tests) keep it.
            (
                "enable_verifier",
                if cfg!(debug_assertions) {
                    "true"
                } else {
                    "false"
                },
            ),
        ] {
            flags.set(name, value).map_err(jit_error)?;
        }
        let isa = cranelift_native::builder()
            .map_err(jit_error)?
            .finish(settings::Flags::new(flags))
            .map_err(jit_error)?;
        if isa.pointer_type() != types::I64 {
            return Err(JitError("only 64-bit targets are supported".into()));
        }
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        let symbols = codegen::helper_symbols();
        for (name, _, _, address) in &symbols {
            builder.symbol(*name, *address);
        }
        let mut module = JITModule::new(builder);
        let mut ids = Vec::with_capacity(symbols.len());
        for (name, params, result, _) in &symbols {
            let mut sig = module.make_signature();
            sig.params = codegen::words_param(*params);
            sig.returns.extend(result.map(AbiParam::new));
            ids.push(
                module
                    .declare_function(name, Linkage::Import, &sig)
                    .map_err(jit_error)?,
            );
        }
        let [site, bytes_cmp, str_test, str_size, str_matches, input] = ids[..] else {
            return Err(JitError("the helpers were not all declared".into()));
        };
        Ok(Jit {
            ctx: module.make_context(),
            module,
            builder: FunctionBuilderContext::new(),
            helpers: Helpers {
                site,
                bytes_cmp,
                str_test,
                str_size,
                str_matches,
                input,
            },
            compiled: Vec::new(),
        })
    }

    /// Compiles `e`, returning its place among the expressions [`Jit::finish`] gives back, or
    /// why it stays with the interpreter.
    pub fn compile(&mut self, e: &Expr) -> Result<usize, Unsupported> {
        let index = self.count(|s| matches!(s, Shape::Expr(..)));
        let id = self.begin(&format!("expr{index}"))?;
        let b = FunctionBuilder::new(&mut self.ctx.func, &mut self.builder);
        let (owned, result) = Gen::function(b, &mut self.module, self.helpers, e)?;
        self.define(id)?;
        self.compiled.push((owned, Shape::Expr(id, result)));
        Ok(index)
    }

    /// Compiles the bool conditions that compile into one [`Matcher`], which evaluates them
    /// all in one call with their inputs loaded once; returns its place among the matchers
    /// [`Jit::finish`] gives back. The conditions that do not compile, and the places without
    /// one (`None`), are left out of it: their outcome is always [`ASK_THE_INTERPRETER`].
    pub fn compile_matcher(&mut self, conditions: &[Option<&Expr>]) -> Result<usize, Unsupported> {
        let mut left_out = Vec::new();
        let mut members = Vec::with_capacity(conditions.len());
        // The conditions that compile, with their size in instructions.
        let mut included: Vec<(&Expr, usize)> = Vec::new();
        for (i, c) in conditions.iter().enumerate() {
            let compiled = c.map(|c| (c, self.compiles(c)));
            members.push(matches!(compiled, Some((_, Ok(_)))));
            match compiled {
                Some((c, Ok(size))) => included.push((c, size)),
                Some((_, Err(why))) => left_out.push((i, why)),
                None => {}
            }
        }
        let index = self.count(|s| matches!(s, Shape::Matcher(_)));
        let mut owned = Owned::default();
        let mut parts = Vec::new();
        for (n, part) in matcher_parts(&included).into_iter().enumerate() {
            let id = self.begin(&format!("matcher{index}_{n}"))?;
            let b = FunctionBuilder::new(&mut self.ctx.func, &mut self.builder);
            owned = Gen::matcher(b, &mut self.module, self.helpers, &part, owned)?;
            self.define(id)?;
            parts.push((id, part.len()));
        }
        owned.members = members;
        owned.left_out = left_out;
        self.compiled.push((owned, Shape::Matcher(parts)));
        Ok(index)
    }

    /// Whether `e` compiles to a bool, tried on a function that is built and thrown away; how
    /// many instructions it takes.
    fn compiles(&mut self, e: &Expr) -> Result<usize, Unsupported> {
        if Repr::of(&e.ty) != Some(Repr::plain(Kind::Bool)) {
            return Err(Unsupported(format!(
                "has a condition that gives {}",
                codegen::describe(&e.ty)
            )));
        }
        let mut func = cranelift_codegen::ir::Function::new();
        func.signature = self.module.make_signature();
        func.signature.params = codegen::words_param(3);
        let mut context = FunctionBuilderContext::new();
        let b = FunctionBuilder::new(&mut func, &mut context);
        Gen::function(b, &mut self.module, self.helpers, e)?;
        Ok(func.dfg.num_insts())
    }

    fn count(&self, shape: impl Fn(&Shape) -> bool) -> usize {
        self.compiled.iter().filter(|(_, s)| shape(s)).count()
    }

    fn begin(&mut self, name: &str) -> Result<FuncId, Unsupported> {
        self.module.clear_context(&mut self.ctx);
        let mut sig = self.module.make_signature();
        sig.params = codegen::words_param(3);
        let id = self
            .module
            .declare_function(name, Linkage::Local, &sig)
            .map_err(|e| Unsupported(e.to_string()))?;
        self.ctx.func.signature = sig;
        self.ctx.func.name = UserFuncName::user(0, id.as_u32());
        Ok(id)
    }

    fn define(&mut self, id: FuncId) -> Result<(), Unsupported> {
        self.module
            .define_function(id, &mut self.ctx)
            .map_err(|e| Unsupported(format!("code generation failed: {e:?}")))
    }

    /// Links the module and hands out what was compiled.
    pub fn finish(mut self) -> Result<Compiled, JitError> {
        self.module.clear_context(&mut self.ctx);
        self.module.finalize_definitions().map_err(jit_error)?;
        let module = &self.module;
        let entry = |id: FuncId| EntryPoint(module.get_finalized_function(id));
        let linked: Vec<(Owned, Linked)> = self
            .compiled
            .into_iter()
            .map(|(owned, shape)| match shape {
                Shape::Expr(id, result) => (owned, Linked::Expr(entry(id), result)),
                Shape::Matcher(parts) => {
                    let parts = parts.into_iter().map(|(id, n)| (entry(id), n)).collect();
                    (owned, Linked::Matcher(parts))
                }
            })
            .collect();
        let code = Arc::new(Code::new(self.module));
        let mut out = Compiled::default();
        for (owned, linked) in linked {
            match linked {
                Linked::Expr(entry, result) => out.exprs.push(NativeExpr {
                    _code: code.clone(),
                    entry,
                    owned,
                    result,
                }),
                Linked::Matcher(parts) => out.matchers.push(Matcher {
                    _code: code.clone(),
                    parts,
                    owned,
                }),
            }
        }
        Ok(out)
    }
}

/// One expression in native code.
#[derive(Debug)]
pub struct NativeExpr {
    /// The memory `entry` points into, held for as long as it may be called.
    _code: Arc<Code>,
    entry: EntryPoint,
    owned: Owned,
    result: Repr,
}

impl NativeExpr {
    /// The value of `e` (the expression this was compiled from): computed natively, or by the
    /// interpreter when native code has no value to give.
    pub fn eval<S: Deref<Target = Schema>>(
        &self,
        e: &Expr,
        evaluator: &Evaluator<S>,
        env: &dyn Env,
    ) -> Value {
        self.run(evaluator, env)
            .unwrap_or_else(|| evaluator.eval(e, env))
    }

    /// What native code computes: `None` when it has no value (an error, an input of an
    /// unexpected kind, or inputs long enough that the interpreter's budget might not hold).
    pub fn run<S: Deref<Target = Schema>>(
        &self,
        evaluator: &Evaluator<S>,
        env: &dyn Env,
    ) -> Option<Value> {
        let (value, longest_string) = with_inputs(&self.owned, evaluator, env, |slots, loader| {
            let mut out = NOT_A_VALUE;
            abi::run(&self.entry, slots, &mut out, loader);
            if out.status != 0 {
                return None;
            }
            // Read while the inputs are alive: a string result may be one of them.
            abi::result_value(&out, self.result)
        });
        // The budget is checked once the strings read are known; native code has no effects,
        // so a value past it is simply not used.
        let within = self
            .owned
            .bounds
            .first()
            .is_some_and(|b| b.within(longest_string));
        value.filter(|_| within)
    }

    /// How many operations native code hands to the reference evaluator.
    pub fn host_calls(&self) -> usize {
        self.owned.sites.len()
    }
}

/// Many bool conditions (the rules an event type triggers) in one native function.
#[derive(Debug)]
pub struct Matcher {
    _code: Arc<Code>,
    /// Each part's function and how many conditions it writes, in order.
    parts: Vec<(EntryPoint, usize)>,
    owned: Owned,
}

/// A condition's outcome in a matcher's output.
pub const FALSE: u8 = 0;
pub const TRUE: u8 = 1;
/// No value from native code (an error, an input of an unexpected kind, a condition that did
/// not compile, a budget that might not hold): the interpreter decides.
pub const ASK_THE_INTERPRETER: u8 = 2;

impl Matcher {
    /// Evaluates every condition, writing one outcome per condition to `out` (cleared first):
    /// [`FALSE`], [`TRUE`] or [`ASK_THE_INTERPRETER`].
    pub fn run<S: Deref<Target = Schema>>(
        &self,
        evaluator: &Evaluator<S>,
        env: &dyn Env,
        out: &mut Vec<u8>,
    ) {
        let members = &self.owned.members;
        let included = members.iter().filter(|m| **m).count();
        out.clear();
        out.resize(included, ASK_THE_INTERPRETER);
        let ((), longest_string) = with_inputs(&self.owned, evaluator, env, |slots, loader| {
            let mut rest: &mut [u8] = out;
            for (entry, n) in &self.parts {
                let Some((part, after)) = rest.split_at_mut_checked(*n) else {
                    return;
                };
                abi::run_matcher(entry, slots, part, loader);
                rest = after;
            }
        });
        for (r, bound) in out.iter_mut().zip(&self.owned.bounds) {
            if !bound.within(longest_string) {
                *r = ASK_THE_INTERPRETER;
            }
        }
        if included < members.len() {
            // Spread the results over the places in place, from the last (a result only moves
            // to a later place), the left-out ones asking the interpreter.
            out.resize(members.len(), ASK_THE_INTERPRETER);
            let mut next = included;
            for (place, member) in members.iter().enumerate().rev() {
                let result = match member {
                    true => {
                        next -= 1;
                        out.get(next).copied().unwrap_or(ASK_THE_INTERPRETER)
                    }
                    false => ASK_THE_INTERPRETER,
                };
                if let Some(r) = out.get_mut(place) {
                    *r = result;
                }
            }
        }
    }

    /// How many of its conditions run natively, of how many.
    pub fn native(&self) -> (usize, usize) {
        let members = &self.owned.members;
        (members.iter().filter(|m| **m).count(), members.len())
    }

    /// The conditions that did not compile, by place, and why.
    pub fn left_out(&self) -> &[(usize, Unsupported)] {
        &self.owned.left_out
    }
}

/// Inputs kept on the stack up to this many (most expressions read a few fields); more go to
/// the heap.
const STACK_INPUTS: usize = 8;

/// Loads the inputs of `owned` that are fields of the event or the profile, and calls `f`
/// with their slots and a loader of the others, which compiled code asks for where it reads
/// them (each evaluated once per call). Returns what `f` gives and the budget cost of the
/// longest string among the inputs read. The values the slots borrow live until `f` returns,
/// and no longer: whatever `f` gives back must own its strings.
#[inline]
fn with_inputs<S: Deref<Target = Schema>, R>(
    owned: &Owned,
    evaluator: &Evaluator<S>,
    env: &dyn Env,
    f: impl FnOnce(&[Slot], &mut abi::Loader<'_>) -> R,
) -> (R, u64) {
    // Inputs the interpreter evaluated, kept alive while native code borrows their strings.
    let mut held: Vec<Value> = Vec::new();
    let n = owned.inputs.len();
    let mut on_stack = [NOT_A_VALUE; STACK_INPUTS];
    let mut on_heap = Vec::new();
    let slots: &mut [Slot] = match on_stack.get_mut(..n) {
        Some(slots) => slots,
        None => {
            on_heap.resize(n, NOT_A_VALUE);
            &mut on_heap
        }
    };
    let eager_longest = load(owned, evaluator, env, slots, &mut held);
    let mut lazy_longest = 0u64;
    let mut cache: Vec<Option<Slot>> = Vec::new();
    let mut loader = |i: usize, out: &mut Slot| {
        if let Some(Some(slot)) = cache.get(i) {
            *out = *slot;
            return;
        }
        let Some(input) = owned.inputs.get(i) else {
            *out = NOT_A_VALUE;
            return;
        };
        let v = evaluator.eval(&input.expr, env);
        let slot = Slot::load(&v, input.repr);
        if input.repr.kind.borrows() {
            if slot.status == 0 && slot.present != 0 {
                lazy_longest = lazy_longest.max(1 + slot.hi / 16);
            }
            held.push(v);
        }
        if cache.is_empty() {
            cache.resize(n, None);
        }
        if let Some(place) = cache.get_mut(i) {
            *place = Some(slot);
        }
        *out = slot;
    };
    let result = f(slots, &mut loader);
    (result, eager_longest.max(lazy_longest))
}

/// Fills the slots of the inputs that are fields (read in place where the environment lends
/// its records); returns the budget cost of the longest string among them.
fn load<S: Deref<Target = Schema>>(
    owned: &Owned,
    evaluator: &Evaluator<S>,
    env: &dyn Env,
    slots: &mut [Slot],
    held: &mut Vec<Value>,
) -> u64 {
    let mut longest_string = 0u64;
    // The records fields are read from, asked of the environment once per call.
    let (mut event, mut profile) = (None, None);
    for (input, slot) in owned.inputs.iter().zip(slots.iter_mut()) {
        let record = match input.source {
            Source::Event(_) => *event.get_or_insert_with(|| env.event_record()),
            Source::Profile(_) => *profile.get_or_insert_with(|| env.profile_record()),
            // Read on demand, through the loader.
            Source::Interpreted => continue,
        };
        match (record, input.source) {
            (Some(record), Source::Event(field) | Source::Profile(field)) => {
                borrowed_field(record, field, input.repr, slot);
            }
            _ => {
                let v = evaluator.eval(&input.expr, env);
                *slot = Slot::load(&v, input.repr);
                if input.repr.kind.borrows() {
                    held.push(v);
                }
            }
        }
        if input.repr.kind.borrows() && slot.status == 0 && slot.present != 0 {
            longest_string = longest_string.max(1 + slot.hi / 16);
        }
    }
    longest_string
}

/// A field of a record the environment lends (the event or the profile), read in place (the
/// string borrowed), with the interpreter's meaning: absent is empty for an optional field and
/// no value otherwise.
#[inline]
fn borrowed_field(record: &RecordValue, field: u32, repr: Repr, slot: &mut Slot) {
    *slot = match record.fields.get(field as usize) {
        Some(Some(v)) if repr.optional => Slot::load_present(v, repr.kind),
        Some(Some(v)) => Slot::load(v, repr),
        _ if repr.optional => Slot {
            status: 0,
            present: 0,
            lo: 0,
            hi: 0,
        },
        _ => NOT_A_VALUE,
    };
}
