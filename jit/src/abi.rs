//! The one unsafe corner of the JIT: calling compiled code, and the host functions that
//! compiled code calls. Everything here trusts one contract, which the code generator keeps:
//! the words of a string (or bytes) are a pointer and a length of valid UTF-8 (or any bytes)
//! that live for the call, borrowed from an input value the host holds (in an `Arc`'s heap
//! allocation, which stays put when the value moves) or from the compiled expression's own
//! constants; or they are (0, 0) where there is no value, the words of `NOT_A_VALUE` and of an
//! empty optional, which every other string word is copied from.
#![allow(unsafe_code)]

use crate::layout::{Kind, NOT_A_VALUE, Repr, Slot};
use offer_compiler::eval;
use offer_compiler::ir::{BinaryOp, Func, UnaryOp};
use offer_compiler::value::{Value, ops};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// What a generic host call computes: an operator or a built-in function of the reference
/// evaluator, on arguments of the given representations.
#[derive(Debug)]
pub struct Site {
    pub op: SiteOp,
    pub args: Vec<Repr>,
    pub result: Repr,
}

#[derive(Clone, Debug)]
pub enum SiteOp {
    Unary(UnaryOp),
    Binary(BinaryOp),
    Call(Func),
    /// `x in list` over a constant list too long to compare element by element in line.
    InConstant(Value),
}

/// What compiled code asks for an input it reads on demand: the input's index, and the slot to
/// fill. The host's closure evaluates it (once per call) and keeps what it borrows alive.
pub(crate) type Loader<'a> = dyn FnMut(usize, &mut Slot) + 'a;

/// The compiled entry point: inputs in, one result slot out, the loader of the other inputs.
type Entry = extern "C" fn(*const Slot, *mut Slot, *mut &mut Loader<'_>);

/// The address of a compiled function, beside the [`Code`] that holds it.
#[derive(Debug)]
pub(crate) struct EntryPoint(pub(crate) *const u8);

// SAFETY: the address is of immutable code, kept mapped by the `Code` every holder of an
// `EntryPoint` also holds.
unsafe impl Send for EntryPoint {}
// SAFETY: as above.
unsafe impl Sync for EntryPoint {}

/// Runs compiled code.
///
/// `entry` must be a finalized function of a live module, generated for `inputs.len()` inputs;
/// [`crate::NativeExpr`] holds the module for as long as it holds the pointer.
///
/// The result is written to `out`, to be read there field by field: compiled code stores it a
/// word at a time, and copying the whole slot right after would wait on those stores.
pub(crate) fn run(entry: &EntryPoint, inputs: &[Slot], out: &mut Slot, loader: &mut Loader<'_>) {
    // SAFETY: `entry` was produced by the code generator with the signature `Entry` (three
    // pointer parameters, no result), and reads no further than the inputs it was compiled for.
    let function = unsafe { std::mem::transmute::<*const u8, Entry>(entry.0) };
    let mut loader = loader;
    function(inputs.as_ptr(), out, &mut loader);
}

/// The matcher's entry point: inputs in, a byte per condition out, the loader.
type MatcherEntry = extern "C" fn(*const Slot, *mut u8, *mut &mut Loader<'_>);

/// Runs a compiled matcher, whose conditions write `out`.
///
/// `entry` must be a finalized matcher of a live module generated for `inputs.len()` inputs
/// and `out.len()` conditions.
pub(crate) fn run_matcher(
    entry: &EntryPoint,
    inputs: &[Slot],
    out: &mut [u8],
    loader: &mut Loader<'_>,
) {
    // SAFETY: the code generator made `entry` with the signature `MatcherEntry`; it writes
    // one byte per condition it was compiled with, which is `out.len()`.
    let function = unsafe { std::mem::transmute::<*const u8, MatcherEntry>(entry.0) };
    let mut loader = loader;
    function(inputs.as_ptr(), out.as_mut_ptr(), &mut loader);
}

/// The bytes a slot borrows.
///
/// # Safety
/// `ptr` and `len` must come from a `&[u8]` (or a `&str`) that is still alive.
unsafe fn borrowed_bytes<'a>(ptr: u64, len: u64) -> &'a [u8] {
    // The words of a string or bytes with no value are (0, 0), and a slice may not start at
    // null.
    if len == 0 {
        return &[];
    }
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts(ptr as *const u8, len as usize) }
}

/// The string a slot borrows.
///
/// # Safety
/// `ptr` and `len` must come from a `&str` that is still alive.
unsafe fn borrowed<'a>(ptr: u64, len: u64) -> &'a str {
    // SAFETY: the caller's contract; a `&str` is valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(borrowed_bytes(ptr, len)) }
}

/// The value a slot holds, as the reference evaluator sees it (strings copied).
///
/// # Safety
/// A string slot with status 0 must satisfy the module's contract.
unsafe fn value(slot: &Slot, repr: Repr) -> Option<Value> {
    if slot.status != 0 {
        return None;
    }
    let present = |slot: &Slot| match repr.kind {
        // SAFETY: the caller's contract.
        Kind::Bytes => Some(Value::Bytes(Arc::from(unsafe {
            borrowed_bytes(slot.lo, slot.hi)
        }))),
        // SAFETY: the caller's contract.
        Kind::String => Some(Value::String(Arc::from(unsafe {
            borrowed(slot.lo, slot.hi)
        }))),
        kind => slot.scalar(kind),
    };
    if repr.optional {
        return Some(match slot.present {
            0 => Value::Optional(None),
            _ => Value::Optional(Some(Arc::new(present(slot)?))),
        });
    }
    present(slot)
}

/// A generic host call: the reference evaluator's operator or function on the arguments.
/// Called by compiled code for what it does not compute itself (conversions, time arithmetic,
/// comparisons across kinds).
pub(crate) extern "C" fn site_call(site: *const Site, args: *const Slot, out: *mut Slot) {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: compiled code passes a `Site` the expression owns, and an array of as many
        // slots as the site has arguments, on its stack.
        let site = unsafe { &*site };
        let slots = unsafe { std::slice::from_raw_parts(args, site.args.len()) };
        let mut values = Vec::with_capacity(slots.len());
        for (slot, repr) in slots.iter().zip(&site.args) {
            // SAFETY: the slots were written by compiled code under the module's contract.
            match unsafe { value(slot, *repr) } {
                Some(v) => values.push(v),
                None => return NOT_A_VALUE,
            }
        }
        let first = values.first().unwrap_or(&Value::Null);
        let v = match &site.op {
            SiteOp::Unary(UnaryOp::Not) => ops::not(first),
            SiteOp::Unary(UnaryOp::Neg) => ops::neg(first),
            SiteOp::Binary(op) => eval::binary(*op, first, values.get(1).unwrap_or(&Value::Null)),
            SiteOp::Call(func) => eval::call(*func, &values),
            SiteOp::InConstant(list) => ops::contains_elem(list, first),
        };
        // A string result would borrow from a value dropped here; the code generator sends no
        // call with one.
        if site.result.kind.borrows() {
            return NOT_A_VALUE;
        }
        Slot::load(&v, site.result)
    }));
    // SAFETY: `out` is a slot on compiled code's stack.
    unsafe { *out = result.unwrap_or(NOT_A_VALUE) };
}

/// An input read on demand: the host's loader fills `out` (with "no value" if it panics).
pub(crate) extern "C" fn input_call(loader: *mut &mut Loader<'_>, index: u64, out: *mut Slot) {
    // SAFETY: compiled code passes back the loader `run` gave it, alive for the call, and a
    // slot on its own stack.
    let (loader, out) = unsafe { (&mut *loader, &mut *out) };
    if catch_unwind(AssertUnwindSafe(|| loader(index as usize, &mut *out))).is_err() {
        *out = NOT_A_VALUE;
    }
}

/// `a` against `b` byte by byte (for strings, code-point order, as UTF-8 keeps it): -1, 0 or 1.
pub(crate) extern "C" fn bytes_cmp(a_ptr: u64, a_len: u64, b_ptr: u64, b_len: u64) -> i64 {
    // SAFETY: compiled code passes two string or bytes slots' words under the module's
    // contract.
    let (a, b) = unsafe { (borrowed_bytes(a_ptr, a_len), borrowed_bytes(b_ptr, b_len)) };
    a.cmp(b) as i64
}

/// The string tests, numbered as compiled code passes them.
pub(crate) const CONTAINS: i64 = 0;
pub(crate) const STARTS_WITH: i64 = 1;
pub(crate) const ENDS_WITH: i64 = 2;

/// `a.contains(b)`, `a.startsWith(b)`, `a.endsWith(b)`: 1 or 0.
pub(crate) extern "C" fn str_test(test: i64, a_ptr: u64, a_len: u64, b_ptr: u64, b_len: u64) -> i8 {
    // SAFETY: as for `bytes_cmp`.
    let (a, b) = unsafe { (borrowed(a_ptr, a_len), borrowed(b_ptr, b_len)) };
    let holds = match test {
        CONTAINS => a.contains(b),
        STARTS_WITH => a.starts_with(b),
        ENDS_WITH => a.ends_with(b),
        _ => false,
    };
    i8::from(holds)
}

/// `size(s)`: code points.
pub(crate) extern "C" fn str_size(ptr: u64, len: u64) -> i64 {
    // SAFETY: as for `bytes_cmp`.
    let s = unsafe { borrowed(ptr, len) };
    s.chars().count() as i64
}

/// `s.matches(re)` with a pattern compiled when the expression was: 1 or 0.
pub(crate) extern "C" fn str_matches(re: *const regex::Regex, ptr: u64, len: u64) -> i8 {
    // SAFETY: `re` is boxed in the expression that holds this code; the string as for
    // `bytes_cmp`.
    let (re, s) = unsafe { (&*re, borrowed(ptr, len)) };
    i8::from(re.is_match(s))
}

/// The slot's value as the host hands it back: strings copied out of the borrowed bytes.
pub(crate) fn result_value(slot: &Slot, repr: Repr) -> Option<Value> {
    // SAFETY: the result of compiled code is a constant's or an input's string, both alive
    // while the caller holds the expression and its inputs.
    unsafe { value(slot, repr) }
}

/// The module that holds compiled code: kept alive by every expression compiled into it, and
/// its memory freed when the last one goes.
pub(crate) struct Code(Option<cranelift_jit::JITModule>);

impl Code {
    pub(crate) fn new(module: cranelift_jit::JITModule) -> Code {
        Code(Some(module))
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Code")
    }
}

impl Drop for Code {
    fn drop(&mut self) {
        if let Some(module) = self.0.take() {
            // SAFETY: `Code` is dropped with the last expression that points into it, so no
            // function pointer into the memory outlives it.
            unsafe { module.free_memory() };
        }
    }
}

// SAFETY: after `finalize_definitions` the module is never touched again (no compiling, no
// symbol lookups): it only keeps the code's memory mapped, and code and helpers are thread-safe
// (they read their arguments and the expression's immutable constants).
unsafe impl Send for Code {}
// SAFETY: as above; nothing reaches the module through a shared reference.
unsafe impl Sync for Code {}
