//! The Offer language server (tower-lsp-server) over the compiler's salsa database
//! (`offer_compiler::db`). Not written yet: the foundation gives it an incremental front end,
//! diagnostics as data and `offer_compiler::line_index` for UTF-16 positions.
