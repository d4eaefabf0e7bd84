//! Fuzz target: the native jq evaluator against jaq. The input is a jq expression,
//! a NUL byte, then a JSON payload (without a NUL, the whole input is the payload).
//! Every natively compiled expression of the shipped mappings, and the given
//! expression, must give jaq's answer: the same value (key order included) when
//! the native run answers, and `Jq::first` equal to jaq's result or error always.
#![no_main]

use std::sync::OnceLock;

use hookgate::config::Loaded;
use hookgate::mapping::jq::Jq;
use hookgate::mapping::MappingSet;
use jaq_json::Val;
use libfuzzer_sys::fuzz_target;

fn mappings() -> &'static MappingSet {
    static M: OnceLock<MappingSet> = OnceLock::new();
    M.get_or_init(|| Loaded::empty().mappings().unwrap_or_default())
}

fn same(a: &Val, b: &Val) -> bool {
    a == b && a.to_string() == b.to_string()
}

fn check(jq: &Jq, input: &Val, headers: &Val) {
    let Some(native) = jq.first_native(input, headers) else {
        return;
    };
    // Only here is jaq sure to finish: the expression is single-valued.
    match jq.first_jaq(input, headers) {
        Ok(v) => assert!(same(&v, &native), "`{}` on {input}: native {native}, jaq {v}", jq.source()),
        Err(e) => panic!("`{}` on {input}: native {native}, jaq error {e}", jq.source()),
    }
}

fuzz_target!(|data: &[u8]| {
    let (expr, body) = match data.iter().position(|b| *b == 0) {
        Some(i) => (data.get(..i), &data[i + 1..]),
        None => (None, data),
    };
    let Ok(input) = serde_json::from_slice::<Val>(body) else {
        return;
    };
    let headers: Val = serde_json::from_str(
        r#"{"x-github-event":"issues","x-shopify-topic":"customers/create","webhook-id":"msg_1"}"#,
    )
    .unwrap_or_default();
    let set = mappings();
    for provider in set.providers() {
        if let Some(m) = set.get(provider) {
            for jq in m.expressions() {
                check(jq, &input, &headers);
            }
        }
    }
    let Some(expr) = expr.and_then(|e| std::str::from_utf8(e).ok()) else {
        return;
    };
    // Short expressions keep jaq's own cost (big repeats, deep nesting) bounded.
    if expr.len() > 256 {
        return;
    }
    if let Ok(jq) = Jq::compile(expr) {
        check(&jq, &input, &headers);
    }
});
