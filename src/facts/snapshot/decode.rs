//! Byte-level reading of snapshot files: Windows PowerShell writes UTF-16LE
//! with a BOM when output is redirected with `>`, PowerShell 7 writes UTF-8,
//! and pastes arrive in whatever the editor saved.

pub use crate::facts::encoding::Encoding;
use crate::facts::encoding::sniff;

use super::ParseError;

#[derive(Debug)]
pub(super) struct Decoded {
    pub text: String,
    pub encoding: Encoding,
    pub note: Option<String>,
}

pub(super) fn decode(bytes: &[u8]) -> Result<Decoded, ParseError> {
    let sniffed = sniff(bytes).map_err(|why| ParseError {
        line: None,
        column: None,
        message: format!("{why}; expected Format-List text or JSON"),
    })?;
    let body = &bytes[sniffed.mark..];
    let unmarked = sniffed.unmarked_utf16.then(|| "UTF-16 without a byte-order mark; read as UTF-16".to_string());
    let (text, encoding, note) = match sniffed.encoding {
        Encoding::Utf8Bom => (utf8(body)?, Encoding::Utf8Bom, None),
        Encoding::Utf16le => (utf16(body, u16::from_le_bytes)?, Encoding::Utf16le, unmarked),
        Encoding::Utf16be => (utf16(body, u16::from_be_bytes)?, Encoding::Utf16be, unmarked),
        // The start told UTF-8 or not; the whole file decides.
        Encoding::Utf8 | Encoding::Windows1252 => match std::str::from_utf8(bytes) {
            Ok(text) => (text.to_string(), Encoding::Utf8, None),
            // Windows-1252 decodes every byte, and puts its smart quotes,
            // dashes and euro sign where Latin-1 would put control characters
            // that make the text look binary.
            Err(_) => (
                encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
                Encoding::Windows1252,
                Some("not valid UTF-8; read as Windows-1252".to_string()),
            ),
        },
    };
    check_text(&text)?;
    Ok(Decoded { text, encoding, note })
}

fn utf8(bytes: &[u8]) -> Result<String, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        ParseError::at_line(line, "the file starts with a UTF-8 byte-order mark but is not valid UTF-8")
    })?;
    Ok(text.to_string())
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, ParseError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(ParseError {
            line: None,
            column: None,
            message: "UTF-16 file with an odd number of bytes: it was cut short or is not UTF-16".into(),
        });
    }
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
    let text = String::from_utf16(&units).map_err(|_| ParseError {
        line: None,
        column: None,
        message: "invalid UTF-16 (unpaired surrogate): the file is damaged or not UTF-16".into(),
    })?;
    Ok(text)
}

/// Rejects binary data: text exports hold no control characters beyond tab,
/// line breaks, form feed and the occasional escape sequence.
fn check_text(text: &str) -> Result<(), ParseError> {
    let mut controls = 0usize;
    let mut total = 0usize;
    for (i, c) in text.char_indices() {
        total += 1;
        if c == '\0' {
            return Err(binary(i));
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1b') {
            controls += 1;
        }
    }
    if total > 0 && controls * 100 > total {
        return Err(ParseError {
            line: None,
            column: None,
            message: format!(
                "binary data ({controls} control characters in {total}); expected Format-List text or JSON"
            ),
        });
    }
    Ok(())
}

fn binary(offset: usize) -> ParseError {
    ParseError {
        line: None,
        column: None,
        message: format!("binary data (a NUL byte at offset {offset}); expected Format-List text or JSON"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le_bom(s: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        out.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        out
    }

    #[test]
    fn reads_each_encoding() {
        let text = "Identity : Global\r\nAllowFederatedUsers : True\r\n";
        assert_eq!(decode(text.as_bytes()).unwrap().encoding, Encoding::Utf8);
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(&bom).unwrap().encoding, Encoding::Utf8Bom);
        let le = decode(&utf16le_bom(text)).unwrap();
        assert_eq!((le.encoding, le.text.as_str()), (Encoding::Utf16le, text));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
        assert_eq!(decode(&be).unwrap().text, text);
        let bomless: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(decode(&bomless).unwrap().encoding, Encoding::Utf16le);
        let latin = b"Description : caf\xe9\n";
        let d = decode(latin).unwrap();
        assert_eq!((d.encoding, d.text.as_str()), (Encoding::Windows1252, "Description : café\n"));
        // Bytes 0x80-0x9F are punctuation in Windows-1252, not controls.
        let notepad = b"Comment : \x93partner\x94 \x96 \x80 5\n";
        let d = decode(notepad).unwrap();
        assert_eq!(
            (d.encoding, d.text.as_str()),
            (Encoding::Windows1252, "Comment : \u{201c}partner\u{201d} \u{2013} \u{20ac} 5\n")
        );
    }

    #[test]
    fn refuses_binary_and_damaged_utf16() {
        assert!(decode(b"abc\0def").unwrap_err().message.contains("offset 3"));
        let mut odd = utf16le_bom("Identity : Global");
        odd.pop();
        assert!(decode(&odd).unwrap_err().message.contains("odd number"));
        let noise: Vec<u8> = (0u32..4096).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 | 1).collect();
        assert!(decode(&noise).is_err());
    }
}
