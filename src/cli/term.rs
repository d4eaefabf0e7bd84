//! Text from input made safe for a terminal: what the commands print of records,
//! payloads, answers and error messages can hold escape sequences (ESC, CSI, OSC)
//! that would move the cursor, rewrite earlier lines or set the window title, and
//! bidirectional overrides that reorder what is read. Every such character is
//! printed as an escape (`\u{1b}`) instead.

use std::fmt;

/// Characters that change how a terminal shows text rather than being shown:
/// C0, DEL, C1, the bidirectional embeddings, overrides and isolates, and the
/// Unicode line and paragraph separators.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// One value on one line: every unsafe character escaped, newlines included.
pub struct Field<'a>(pub &'a str);

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        escape(self.0, f, |_| false)
    }
}

/// Text that may span lines (an error with its context): newlines and tabs kept,
/// every other unsafe character escaped.
pub struct Lines<'a>(pub &'a str);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        escape(self.0, f, |c| matches!(c, '\n' | '\t'))
    }
}

fn escape(s: &str, f: &mut fmt::Formatter<'_>, keep: impl Fn(char) -> bool) -> fmt::Result {
    let mut rest = s;
    while let Some((i, c)) = rest.char_indices().find(|&(_, c)| is_unsafe(c) && !keep(c)) {
        f.write_str(&rest[..i])?;
        write!(f, "\\u{{{:x}}}", c as u32)?;
        rest = &rest[i + c.len_utf8()..];
    }
    f.write_str(rest)
}

/// JSON text (compact or pretty) with every unsafe character inside its strings
/// written as a JSON `\uXXXX` escape: still the same JSON value. serde_json
/// already escapes C0 inside strings, not DEL, C1 or the bidirectional controls;
/// outside strings JSON has only its own whitespace, which is kept.
pub fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe(c) && !matches!(c, '\n' | ' ' | '\t' | '\r') {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escape_sequences_are_shown_not_run() {
        let hostile = "src\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{202e}txt.exe\nFAKE LINE";
        let shown = Field(hostile).to_string();
        assert_eq!(
            shown,
            "src\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{202e}txt.exe\\u{a}FAKE LINE"
        );
        assert_eq!(Lines("a\u{1b}[1A\nb\tc").to_string(), "a\\u{1b}[1A\nb\tc");
    }

    #[test]
    fn json_stays_the_same_value() {
        let value = serde_json::json!({"source": "a\u{1b}[31m\u{7f}\u{9b}\u{202e}b", "n": [1, 2]});
        for text in [
            serde_json::to_string(&value).unwrap_or_default(),
            serde_json::to_string_pretty(&value).unwrap_or_default(),
        ] {
            let safe = json(&text);
            assert!(!safe.chars().any(|c| is_unsafe(c) && c != '\n'), "{safe}");
            let back: serde_json::Value =
                serde_json::from_str(&safe).unwrap_or_else(|e| panic!("{e}: {safe}"));
            assert_eq!(back, value);
        }
    }

    proptest! {
        #[test]
        fn nothing_unsafe_is_printed(s in "\\PC*|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202a}-\\u{202e}a-z]{0,100}") {
            let shown = Field(&s).to_string();
            prop_assert!(!shown.chars().any(is_unsafe), "{shown:?}");
            let lines = Lines(&s).to_string();
            prop_assert!(!lines.chars().any(|c| is_unsafe(c) && c != '\n' && c != '\t'));
        }
    }
}
