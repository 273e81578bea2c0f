//! How pasted text was encoded, told from its first bytes: the one detector
//! for snapshot files and traces. Windows PowerShell writes UTF-16LE with a
//! byte-order mark when output is redirected with `>`, PowerShell 7 and
//! most tools write UTF-8, some drop the mark, and Notepad or a mail client
//! saves Windows-1252.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16le,
    Utf16be,
    /// Not valid UTF-8: read as Windows-1252, what Notepad and Windows
    /// PowerShell's `Out-File -Encoding Default` write on Western systems.
    #[serde(rename = "windows-1252", alias = "latin1")]
    Windows1252,
}

/// What the first bytes of a text tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub encoding: Encoding,
    /// Bytes of the byte-order mark to skip.
    pub mark: usize,
    /// UTF-16 recognized by its NUL bytes, without a mark.
    pub unmarked_utf16: bool,
}

/// How much of a text's start is looked at.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Tells the encoding of a text from its start (at most [`SNIFF_BYTES`]
/// are looked at), or says why it is no text: a NUL byte where no UTF-16
/// explains it, or control characters throughout.
pub fn sniff(head: &[u8]) -> Result<Sniffed, String> {
    let marked = |encoding, mark| Ok(Sniffed { encoding, mark, unmarked_utf16: false });
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return marked(Encoding::Utf8Bom, 3);
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return marked(Encoding::Utf16le, 2);
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return marked(Encoding::Utf16be, 2);
    }
    let sample = &head[..head.len().min(SNIFF_BYTES)];
    // UTF-16 without a mark: ASCII text then has a NUL in every second byte.
    let pairs = sample.len() / 2;
    if pairs >= 4 {
        let odd = sample.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
        let even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
        let unmarked = |encoding| Ok(Sniffed { encoding, mark: 0, unmarked_utf16: true });
        if odd * 10 >= pairs * 9 && even == 0 {
            return unmarked(Encoding::Utf16le);
        }
        if even * 10 >= pairs * 9 && odd == 0 {
            return unmarked(Encoding::Utf16be);
        }
    }
    if let Some(offset) = sample.iter().position(|&b| b == 0) {
        return Err(format!("binary data (a NUL byte at offset {offset})"));
    }
    let controls = sample.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)).count();
    // Text holds a stray control character or two (a bell, an escape
    // sequence); binary data holds them everywhere.
    if controls > 4 && controls * 20 > sample.len() {
        return Err(format!("binary data ({controls} control bytes in the first {} bytes)", sample.len()));
    }
    // A multi-byte character cut at the end of the sample is still UTF-8.
    let utf8 = match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    marked(if utf8 { Encoding::Utf8 } else { Encoding::Windows1252 }, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_encoding_is_told_from_the_start() {
        let text = "Identity : Global\r\n";
        assert_eq!(sniff(text.as_bytes()).unwrap().encoding, Encoding::Utf8);
        assert_eq!(
            sniff(&[0xEF, 0xBB, 0xBF, b'a']).unwrap(),
            Sniffed { encoding: Encoding::Utf8Bom, mark: 3, unmarked_utf16: false }
        );
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(sniff(&le).unwrap(), Sniffed { encoding: Encoding::Utf16le, mark: 0, unmarked_utf16: true });
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(sniff(&be).unwrap().encoding, Encoding::Utf16be);
        assert_eq!(sniff(b"caf\xe9 \x93quoted\x94").unwrap().encoding, Encoding::Windows1252);
        assert_eq!(sniff("caf\u{e9}".as_bytes()[..4].as_ref()).unwrap().encoding, Encoding::Utf8, "a cut character");
        assert!(sniff(b"abc\0def").unwrap_err().contains("offset 3"));
        assert!(sniff(&[1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10]).unwrap_err().contains("control bytes"));
    }
}
