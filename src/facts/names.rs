//! DNS names, wherever they come from (the command line, a snapshot, a DNS
//! answer, a certificate), in one canonical form so that they compare: no
//! surrounding space, no trailing dot, lower case, international names in
//! their ASCII (`xn--`) form. Names the user types are also validated.

/// The canonical form of a name, for comparing. Never fails: a value from a
/// snapshot that is not a valid name is still compared as written.
pub fn canonical(name: &str) -> String {
    let trimmed = name.trim().trim_end_matches('.');
    if trimmed.is_ascii() {
        return trimmed.to_ascii_lowercase();
    }
    idna::domain_to_ascii(trimmed).unwrap_or_else(|_| trimmed.to_lowercase())
}

/// The shard (0 to `count` - 1) a domain belongs to: FNV-1a (64 bits) of its
/// canonical name, modulo `count`. Fixed, so that a domain always lands in
/// the same shard, on every machine and every release.
pub fn shard_of(domain: &str, count: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in domain.trim_end_matches('.').to_ascii_lowercase().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(count.max(1))) as u32
}

/// A fully qualified domain name as the user typed it, made canonical, or
/// why it is not one.
pub fn parse_fqdn(input: &str) -> Result<String, String> {
    let trimmed = input.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(format!("{input:?} is empty"));
    }
    let ascii = idna::domain_to_ascii(trimmed).map_err(|_| format!("{input:?} is not a valid domain name"))?;
    if ascii.len() > 253 {
        return Err(format!("{input:?} is longer than 253 characters"));
    }
    if !ascii.contains('.') {
        return Err(format!("{input:?} is not a fully qualified domain name (it has a single label)"));
    }
    for label in ascii.split('.') {
        let valid = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(format!("{input:?} is not a valid domain name (label {label:?})"));
        }
    }
    Ok(ascii)
}

/// Whether `name` is `domain` or below it, compared on label boundaries
/// (`it.contoso.com` is below `contoso.com`; `evilcontoso.com` is not).
pub fn is_within(name: &str, domain: &str) -> bool {
    // Byte-wise and without allocating: partner lists meet allowed lists of
    // tens of thousands of entries.
    let name = name.trim().trim_end_matches('.').as_bytes();
    let domain = domain.trim().trim_end_matches('.').as_bytes();
    let Some(start) = name.len().checked_sub(domain.len()) else { return false };
    !domain.is_empty() && name[start..].eq_ignore_ascii_case(domain) && (start == 0 || name[start - 1] == b'.')
}

/// Whether `fqdn` is exactly one label directly inside `domain`
/// (`sip.contoso.com` for `contoso.com`; not `sip.it.contoso.com`).
pub fn is_direct_child(fqdn: &str, domain: &str) -> bool {
    let fqdn = canonical(fqdn);
    let domain = canonical(domain);
    fqdn.strip_suffix(&domain)
        .and_then(|rest| rest.strip_suffix('.'))
        .is_some_and(|label| !label.is_empty() && !label.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_or_refused() {
        assert_eq!(parse_fqdn(" Contoso.COM. ").unwrap(), "contoso.com");
        assert_eq!(parse_fqdn("bücher.example").unwrap(), "xn--bcher-kva.example");
        for bad in ["", "contoso", "-a.com", "a..com", "a_b.com", "a b.com", &format!("{}.com", "x".repeat(64))] {
            assert!(parse_fqdn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_canonical_form_for_typed_and_exported_names() {
        for (typed, exported) in [("Contoso.COM", " contoso.com. "), ("bücher.example", "BÜCHER.example")] {
            assert_eq!(parse_fqdn(typed).unwrap(), canonical(exported));
        }
        assert_eq!(canonical("not a name"), "not a name");
    }

    #[test]
    fn label_boundaries() {
        assert!(is_within("it.contoso.com", "contoso.com"));
        assert!(is_within("Contoso.com.", "contoso.com"));
        assert!(!is_within("evilcontoso.com", "contoso.com"));
        assert!(is_direct_child("sip.contoso.com", "contoso.com"));
        assert!(!is_direct_child("sip.it.contoso.com", "contoso.com"));
        assert!(!is_direct_child("sip.contoso-edge.com", "contoso.com"));
        assert!(!is_direct_child("contoso.com", "contoso.com"));
        assert!(!is_direct_child("sipcontoso.com", "contoso.com"));
    }
}
