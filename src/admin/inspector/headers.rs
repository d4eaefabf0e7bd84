//! What the inspector keeps of a request's headers: credentials hidden, and
//! bounded in count and bytes whatever a stranger sends.

use super::entry::shown;

/// Headers kept per entry; the rest are counted in one closing line.
pub const MAX_HEADERS: usize = 64;
/// Header names and values are cut at these sizes (and marked).
pub const MAX_HEADER_NAME: usize = 128;
pub const MAX_HEADER_VALUE: usize = 1024;
/// The most header bytes (names and values) kept per entry.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Header values that are credentials: shown as `[hidden]`.
pub const HIDDEN: &str = "[hidden]";

/// The request's headers as the inspector keeps them: credentials hidden
/// (`authorization`, cookies, and the headers the source's scheme carries its
/// signature or token in), names and values cut at [`MAX_HEADER_NAME`] and
/// [`MAX_HEADER_VALUE`], at most [`MAX_HEADERS`] of them and [`MAX_HEADER_BYTES`]
/// together; what is left out is counted in a last line named `…`.
pub fn visible_headers(
    headers: &http::HeaderMap,
    credential_headers: &[&http::HeaderName],
) -> Vec<(String, String)> {
    let mut kept = Vec::new();
    let (mut bytes, mut left_out, mut left_out_bytes) = (0, 0, 0);
    for (name, value) in headers {
        let hidden = matches!(
            name.as_str(),
            "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
        ) || credential_headers.contains(&name);
        let size = name.as_str().len() + value.len();
        if kept.len() < MAX_HEADERS && bytes < MAX_HEADER_BYTES {
            let k = shown(name.as_str().as_bytes(), MAX_HEADER_NAME);
            let v = if hidden {
                HIDDEN.to_owned()
            } else {
                shown(value.as_bytes(), MAX_HEADER_VALUE)
            };
            if bytes + k.len() + v.len() <= MAX_HEADER_BYTES {
                bytes += k.len() + v.len();
                kept.push((k, v));
                continue;
            }
        }
        left_out += 1;
        left_out_bytes += size;
    }
    if left_out > 0 {
        kept.push((
            "…".to_owned(),
            format!("{left_out} more headers ({left_out_bytes} bytes) not kept"),
        ));
    }
    kept
}
