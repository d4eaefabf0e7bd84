//! A compiled mapping: its expressions, schemes and tables, and what can be
//! asked of it without evaluating anything.

use std::collections::{BTreeMap, HashMap, HashSet};

use jaq_json::Val;

use super::jq::Jq;
use super::model::HandshakeSpec;
use super::payload::headers_value;
use super::respond::Respond;
use crate::verify::Scheme;

/// One `[events."x"]` rule, compiled.
pub(super) struct CompiledRule {
    pub(super) ty: String,
    pub(super) data: Jq,
    pub(super) subject: Option<Jq>,
    pub(super) partition_key: Option<Jq>,
    pub(super) time: Option<Jq>,
    pub(super) requires: Option<Jq>,
}

/// One provider's compiled mapping. Compiled by `compile.rs`, evaluated by
/// `evaluate.rs`, which read its fields.
pub struct Mapping {
    pub(super) provider: String,
    pub(super) file: String,
    /// The provider's schemes, in the file's order (empty: it does not sign).
    pub(super) schemes: Vec<Scheme>,
    /// `[batch] items`: how one delivery splits into events (a jq stream).
    pub(super) batch_items: Option<Jq>,
    pub(super) ty: Jq,
    pub(super) id: Option<Jq>,
    pub(super) dedup: Option<Jq>,
    pub(super) time: Option<Jq>,
    pub(super) tenant: Option<Jq>,
    pub(super) subject: Option<Jq>,
    pub(super) partition_key: Option<Jq>,
    pub(super) ignore: HashSet<String>,
    pub(super) aliases: HashMap<String, String>,
    pub(super) events: HashMap<String, CompiledRule>,
    pub(super) dead_letter_headers: Vec<http::HeaderName>,
    /// Whether any expression reads `$headers` (else it is not built per request).
    pub(super) uses_headers: bool,
    pub(super) respond: Vec<Respond>,
    pub(super) answer: Option<Jq>,
    pub(super) handshake: HandshakeSpec,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("provider", &self.provider)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

/// Provider event type -> canonical type, for documentation and `check`.
pub type TypeTable = BTreeMap<String, String>;

impl Mapping {
    pub fn provider(&self) -> &str {
        &self.provider
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// The provider's first scheme, or `None` when it does not sign.
    pub fn scheme(&self) -> Option<&Scheme> {
        self.schemes.first()
    }

    /// Every scheme the provider signs with.
    pub fn schemes(&self) -> &[Scheme] {
        &self.schemes
    }

    pub fn handshake(&self) -> &HandshakeSpec {
        &self.handshake
    }

    pub fn dead_letter_headers(&self) -> &[http::HeaderName] {
        &self.dead_letter_headers
    }

    pub fn type_table(&self) -> TypeTable {
        let mut t: TypeTable = self
            .events
            .iter()
            .map(|(k, r)| (k.clone(), r.ty.clone()))
            .collect();
        for (alias, target) in &self.aliases {
            if let Some(r) = self.events.get(target) {
                t.insert(alias.clone(), r.ty.clone());
            }
        }
        t
    }

    pub fn ignored_types(&self) -> impl Iterator<Item = &str> {
        self.ignore.iter().map(String::as_str)
    }

    /// Every compiled expression of the mapping, sorted by label (for reports
    /// and tests: which run natively, which fall back to jaq).
    pub fn expressions(&self) -> Vec<&Jq> {
        let mut all: Vec<&Jq> = self.filters().collect();
        all.sort_by(|a, b| a.label().cmp(b.label()));
        all
    }

    /// Every compiled expression of the mapping.
    pub(super) fn filters(&self) -> impl Iterator<Item = &Jq> {
        let event = [
            &self.id,
            &self.dedup,
            &self.time,
            &self.tenant,
            &self.subject,
            &self.partition_key,
        ];
        std::iter::once(&self.ty)
            .chain(event.into_iter().flatten())
            .chain(self.events.values().flat_map(|r| {
                std::iter::once(&r.data).chain(
                    [&r.subject, &r.partition_key, &r.time, &r.requires]
                        .into_iter()
                        .flatten(),
                )
            }))
            .chain(self.respond.iter().flat_map(|r| {
                [&r.when, &r.body]
                    .into_iter()
                    .chain(r.sign.as_ref().map(|s| &s.of))
            }))
            .chain(self.batch_items.iter())
            .chain(self.answer.iter())
    }

    /// `$headers`, built only for a mapping whose expressions read it.
    pub(super) fn headers_val(&self, headers: &http::HeaderMap) -> Val {
        if self.uses_headers {
            headers_value(headers)
        } else {
            Val::Null
        }
    }

    /// Whether the mapping splits a delivery into items (`[batch]`).
    pub fn is_batched(&self) -> bool {
        self.batch_items.is_some()
    }
}
