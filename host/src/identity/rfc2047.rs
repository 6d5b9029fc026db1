//! RFC 2047 encoded words in the identity header values set by `tailscale serve`.
//!
//! `tailscale serve` passes any identity value that is not plain printable ASCII (a display
//! name, a capability grant with an emoji) through Go's `mime.QEncoding.Encode("utf-8", v)`,
//! which splits a long value into several encoded words separated by spaces, and sends every
//! other value as it is. [`encode`] is that encoder. [`decode_header`] behaves like Go's
//! `mime.WordDecoder.DecodeHeader` without a `CharsetReader`. [`decode_serve_value`] is what
//! the host uses: it accepts a decoding only if serve would have sent exactly this header for
//! it, so a plain ASCII value that merely contains `=?utf-8?q?...?=` is taken literally.
//!
//! It is pure (std only, no I/O, no state) so that it can be checked case by case, and against
//! vectors produced by Go itself (`testdata/rfc2047-vectors.json`).

use std::fmt;

/// Why a header value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A well-formed encoded word names a charset other than UTF-8, US-ASCII or ISO-8859-1.
    UnknownCharset(String),
    /// The decoded value is not valid UTF-8.
    InvalidUtf8,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownCharset(charset) => {
                write!(f, "unknown charset {charset:?} in an encoded word")
            }
            Self::InvalidUtf8 => f.write_str("encoded words decode to invalid UTF-8"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The value `tailscale serve` meant by `header`: the decoded text if encoding it again
/// ([`encode`]) gives back `header` byte for byte, otherwise `header` itself.
///
/// serve either Q-encodes a whole value or sends it unchanged, so a header it produced is
/// always one or the other. Anything else (an encoded word inside ASCII text, an uppercase
/// `Q`, a charset other than `utf-8`, words that do not decode) can only be a value sent as
/// it is, and decoding it would let an ASCII login or grant turn into different text.
pub fn decode_serve_value(header: &str) -> String {
    match decode_header(header) {
        Ok(decoded) if encode(&decoded) == header => decoded,
        _ => header.to_owned(),
    }
}

/// Go's `maxEncodedWordLen`: the longest encoded word it writes.
const MAX_WORD_LEN: usize = 75;
const WORD_OPEN: &str = "=?utf-8?q?";
const WORD_CLOSE: &str = "?=";

/// Encodes `value` exactly like Go's `mime.QEncoding.Encode("utf-8", value)`, as
/// `tailscale serve` does.
///
/// Printable ASCII and tab come back unchanged. Anything else becomes encoded words of at
/// most 75 characters, separated by a space, never splitting a character across two words.
pub fn encode(value: &str) -> String {
    let needs_encoding = value.bytes().any(|b| !matches!(b, b' '..=b'~' | b'\t'));
    if !needs_encoding {
        return value.to_owned();
    }
    // Go measures the budget with the uppercase "UTF-8"; the length is the same.
    let budget = MAX_WORD_LEN - WORD_OPEN.len() - WORD_CLOSE.len();
    let mut out = String::with_capacity(value.len() * 3 + WORD_OPEN.len() + WORD_CLOSE.len());
    out.push_str(WORD_OPEN);
    let mut used = 0;
    for c in value.chars() {
        let mut utf8 = [0; 4];
        let bytes = c.encode_utf8(&mut utf8).as_bytes();
        // As Go counts: one for a byte written as itself (a space is `_`), three for `=XX`.
        let cost = match bytes {
            [b] if is_plain(*b) || *b == b' ' => 1,
            _ => 3 * bytes.len(),
        };
        if used + cost > budget {
            out.push_str(WORD_CLOSE);
            out.push(' ');
            out.push_str(WORD_OPEN);
            used = 0;
        }
        for &b in bytes {
            match b {
                b' ' => out.push('_'),
                b if is_plain(b) => out.push(char::from(b)),
                b => {
                    const HEX: &[u8; 16] = b"0123456789ABCDEF";
                    out.push('=');
                    out.push(char::from(HEX[usize::from(b >> 4)]));
                    out.push(char::from(HEX[usize::from(b & 0x0f)]));
                }
            }
        }
        used += cost;
    }
    out.push_str(WORD_CLOSE);
    out
}

/// Whether Go's Q encoder writes byte `b` as itself.
fn is_plain(b: u8) -> bool {
    matches!(b, b'!'..=b'~') && !matches!(b, b'=' | b'?' | b'_')
}

/// Decodes every RFC 2047 encoded word (`=?charset?Q-or-B?text?=`) in a header value.
///
/// Text outside encoded words is kept unchanged, and so is any encoded word whose text is
/// malformed. Linear white space between two adjacent encoded words is dropped, so a value
/// that Go split into several words comes back whole.
///
/// # Errors
///
/// [`DecodeError::UnknownCharset`] if a well-formed word names a charset other than UTF-8,
/// US-ASCII or ISO-8859-1, and [`DecodeError::InvalidUtf8`] if the result is not UTF-8.
pub fn decode_header(value: &str) -> Result<String, DecodeError> {
    // Bytes, not a String: Go joins the words' bytes before they are read as UTF-8, so a
    // character split across two words still decodes.
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    let mut between_words = false;
    while let Some(word) = next_word(rest) {
        let Some(content) = decode_text(word.encoding, word.text) else {
            // Malformed text: keep the `=?` as it is and look for a word after it.
            let (kept, after) = rest.split_at(word.start + 2);
            out.extend_from_slice(kept.as_bytes());
            rest = after;
            between_words = false;
            continue;
        };
        let gap = &rest[..word.start];
        if !(between_words && is_linear_white_space(gap)) {
            out.extend_from_slice(gap.as_bytes());
        }
        convert(&mut out, word.charset, &content)?;
        rest = &rest[word.end..];
        between_words = true;
    }
    out.extend_from_slice(rest.as_bytes());
    String::from_utf8(out).map_err(|_| DecodeError::InvalidUtf8)
}

/// The parts of one `=?charset?encoding?text?=` found in a header value.
struct Word<'a> {
    /// Byte offset of the opening `=?`.
    start: usize,
    charset: &'a str,
    encoding: u8,
    text: &'a str,
    /// Byte offset just past the closing `?=`.
    end: usize,
}

/// Finds the next encoded word the way Go scans for one. `None` means Go stops looking, and
/// the rest of the value is kept unchanged even if a valid word follows.
fn next_word(s: &str) -> Option<Word<'_>> {
    let start = s.find("=?")?;
    let mut cur = start + 2;
    let charset_len = s[cur..].find('?')?;
    let charset = &s[cur..cur + charset_len];
    cur += charset_len + 1;
    // The shortest possible remainder is "Q??=".
    if s.len() < cur + 4 {
        return None;
    }
    let bytes = s.as_bytes();
    let encoding = bytes[cur];
    if bytes[cur + 1] != b'?' {
        return None;
    }
    cur += 2;
    let text_len = s[cur..].find("?=")?;
    Some(Word {
        start,
        charset,
        encoding,
        text: &s[cur..cur + text_len],
        end: cur + text_len + 2,
    })
}

/// Whether `s` holds only the white space Go drops between two encoded words (not `\v`).
fn is_linear_white_space(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Decodes a word's text; `None` if the encoding is unknown or the text is malformed.
fn decode_text(encoding: u8, text: &str) -> Option<Vec<u8>> {
    match encoding {
        b'B' | b'b' => b_decode(text),
        b'Q' | b'q' => q_decode(text),
        _ => None,
    }
}

/// Q encoding as Go reads it: `_` is a space, `=XX` a hex byte (either case), and any other
/// printable ASCII, space, tab, CR or LF stands for itself.
fn q_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'_' => b' ',
            b'=' => {
                let high = hex_digit(bytes.next()?)?;
                high << 4 | hex_digit(bytes.next()?)?
            }
            b' '..=b'~' | b'\t' | b'\r' | b'\n' => b,
            _ => return None,
        });
    }
    Some(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// B encoding as Go's `base64.StdEncoding` reads it: CR and LF are skipped, padding is
/// required, and unused bits in the last character are ignored.
fn b_decode(text: &str) -> Option<Vec<u8>> {
    let input: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b'\r' | b'\n'))
        .collect();
    if !input.len().is_multiple_of(4) {
        return None;
    }
    let quanta = input.len() / 4;
    let mut out = Vec::with_capacity(quanta * 3);
    for (i, quantum) in input.chunks_exact(4).enumerate() {
        let padding = match quantum {
            [.., b'=', b'='] => 2,
            [.., b'='] => 1,
            _ => 0,
        };
        if padding > 0 && i + 1 != quanta {
            return None;
        }
        let mut bits = 0u32;
        for &c in &quantum[..4 - padding] {
            bits = bits << 6 | u32::from(sextet(c)?);
        }
        bits <<= 6 * padding;
        out.extend_from_slice(&bits.to_be_bytes()[1..4 - padding]);
    }
    Some(out)
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Appends decoded bytes in `charset` to `out` as UTF-8, like Go's `WordDecoder.convert`.
fn convert(out: &mut Vec<u8>, charset: &str, content: &[u8]) -> Result<(), DecodeError> {
    let push = |out: &mut Vec<u8>, c: char| {
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    };
    if charset.eq_ignore_ascii_case("utf-8") {
        out.extend_from_slice(content);
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        for &b in content {
            push(out, char::from(b));
        }
    } else if charset.eq_ignore_ascii_case("us-ascii") {
        for &b in content {
            let c = if b.is_ascii() {
                char::from(b)
            } else {
                char::REPLACEMENT_CHARACTER
            };
            push(out, c);
        }
    } else {
        return Err(DecodeError::UnknownCharset(charset.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
