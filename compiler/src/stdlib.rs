//! The standard library: `.offer` sources from the repository's `stdlib/` folder, compiled into
//! the binary. `std.prelude` is part of every program; the others come with `import std.NAME`.

/// One module of the standard library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StdModule {
    /// The name an import uses, `std.telco`.
    pub name: &'static str,
    /// The id its diagnostics carry.
    pub file: &'static str,
    pub text: &'static str,
}

pub const PRELUDE: &str = "std.prelude";

pub const MODULES: &[StdModule] = &[
    StdModule {
        name: PRELUDE,
        file: "<std>/prelude.offer",
        text: include_str!("../../stdlib/prelude.offer"),
    },
    StdModule {
        name: "std.telco",
        file: "<std>/telco.offer",
        text: include_str!("../../stdlib/telco.offer"),
    },
];

pub fn module(name: &str) -> Option<&'static StdModule> {
    MODULES.iter().find(|m| m.name == name)
}
