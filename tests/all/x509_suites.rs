//! Third-party certificate test suites run through fedscan's own certificate
//! judgement (`tests/data/`, see its README):
//!
//! - x509-limbo (the 88-case subset): chain and name validation with
//!   `facts::chain::validate_for_name` (the `validate` of TLS-CHAIN-01, then
//!   webpki's match of the case's server name), at the case's time;
//! - bettertls path building: the same, for `localhost`, at 2023-07-06T13:55:34Z;
//! - zlint: the certificate rules (TLS-KEY-01, TLS-SIG-01, TLS-EKU-01, ...)
//!   run by the engine on each certificate as with `--cert-file`, for the
//!   lints fedscan has an equivalent check of (see `ZLINT_MAP`).
//!
//! Policy: fedscan validates like a TLS client with the public-CA (CA/Browser
//! Forum-like) policy of rustls-webpki, not plain RFC 5280. So limbo's
//! `webpki::` cases are its own policy, and its `rfc5280::` cases may differ.
//! Every case where fedscan's verdict is not the suite's is in the suite's
//! table below with the reason; an unlisted difference, or a listed case that
//! agrees, fails the test. When a listed certificate is still refused by
//! another fedscan rule (`flagged_by`), the test checks that the rule fails it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fedscan::engine::evaluate::evaluate;
use fedscan::facts::certs::{TrustStore, load_trust, read_cert_file};
use fedscan::facts::chain::{ChainVerdict, validate, validate_for_name};
use fedscan::facts::x509::cert_info;
use fedscan::facts::{Facts, Inputs, Targets};
use fedscan::findings::Status;
use fedscan::rules::{RuleSet, Scope, Selection, builtin_sources, load_rules};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const POLICY: &str = "public-CA policy of rustls-webpki (CA/Browser Forum-like), not plain RFC 5280";

fn suites() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn b64(der: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der)
}

/// The DER certificates of a PEM file (none for an empty file).
fn pem_chain(path: &Path) -> Vec<Vec<u8>> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if text.iter().all(u8::is_ascii_whitespace) {
        return Vec::new();
    }
    read_cert_file(path)
        .unwrap_or_else(|e| panic!("{e}"))
        .chain
        .iter()
        .map(|c| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, c).unwrap())
        .collect()
}

fn trust(path: &Path) -> TrustStore {
    load_trust(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"))
}

fn rules() -> RuleSet {
    load_rules(&builtin_sources()).expect("built-in rules load")
}

/// Runs one rule over a certificate file as `--cert-file` does (with
/// `edges` as `--edge`), at `now`: whether it fails, and what it said.
fn rule_on_file(rules: &RuleSet, rule_id: &str, pem: &Path, now: OffsetDateTime, edges: &[String]) -> (bool, String) {
    let rule = rules.get(rule_id).unwrap_or_else(|| panic!("no rule {rule_id}"));
    let mut facts = Facts::new(Inputs { edges: edges.to_vec(), ..Inputs::default() }, now);
    facts.targets = Targets { edges: edges.to_vec(), ..Targets::default() };
    facts.cert_files.push(read_cert_file(pem).unwrap_or_else(|e| panic!("{e}")));
    let selection = Selection::new(&[rule.id.to_string()], &[], rules).unwrap();
    let findings = evaluate(rules, &Scope::new(selection, &rule.profiles, now), &facts, now, None);
    assert!(!findings.is_empty(), "{rule_id} gave no finding for {}", pem.display());
    let fails = findings.iter().any(|f| f.status == Status::Fail);
    let said: Vec<String> =
        findings.iter().map(|f| format!("{} {}: {}", rule_id, f.status.name(), f.message)).collect();
    (fails, said.join("; "))
}

/// A case where fedscan's verdict is not the suite's, and why.
struct Differs {
    id: &'static str,
    reason: &'static str,
    /// A fedscan rule that still fails this certificate (checked), so that
    /// a full audit refuses it even though the chain verdict does not.
    flagged_by: Option<&'static str>,
}

const fn differs(id: &'static str, reason: &'static str) -> Differs {
    Differs { id, reason, flagged_by: None }
}

const fn differs_by(id: &'static str, rule: &'static str, reason: &'static str) -> Differs {
    Differs { id, reason, flagged_by: Some(rule) }
}

/// One case's result: id, whether fedscan agrees, what it said.
struct Compared {
    id: String,
    agrees: bool,
    detail: String,
}

/// Compares verdicts with the table of known differences; prints the tally
/// and returns the problems (unlisted differences, listed agreements).
fn tally(suite: &str, results: &[Compared], table: &[Differs]) -> Vec<String> {
    let listed: BTreeMap<&str, &Differs> = table.iter().map(|d| (d.id, d)).collect();
    assert_eq!(listed.len(), table.len(), "{suite}: a case is listed twice");
    let mut problems = Vec::new();
    let mut agree = 0;
    let mut differ = Vec::new();
    let mut bugs = 0;
    for r in results {
        match (r.agrees, listed.get(r.id.as_str())) {
            (true, None) => agree += 1,
            (false, Some(d)) => {
                bugs += usize::from(d.reason.starts_with("BUG"));
                let by = d.flagged_by.map_or(String::new(), |rule| format!(" [still failed by {rule}]"));
                differ.push(format!("  {}: {}{by}\n      fedscan: {}", r.id, d.reason, r.detail));
            }
            (false, None) => problems.push(format!("{suite} {}: unlisted difference: {}", r.id, r.detail)),
            (true, Some(_)) => {
                problems.push(format!("{suite} {}: listed as a difference but agrees: {}", r.id, r.detail))
            }
        }
    }
    for id in listed.keys() {
        if !results.iter().any(|r| r.id == *id) {
            problems.push(format!("{suite} {id}: listed but not a case of the suite"));
        }
    }
    eprintln!("{suite} (fedscan applies the {POLICY}):");
    eprintln!(
        "  {} cases: {agree} agree, {} differ with a listed reason ({bugs} of them bugs), {} unexplained",
        results.len(),
        differ.len(),
        problems.len()
    );
    for line in &differ {
        eprintln!("{line}");
    }
    problems
}

fn short(verdict: &ChainVerdict) -> String {
    match verdict {
        ChainVerdict::Trusted { .. } => "Trusted".into(),
        other => format!("{other:?}"),
    }
}

// ---------------------------------------------------------------- x509-limbo

const LIMBO_DIFFERENCES: &[Differs] = &[
    // rfc5280:: cases, where the public-CA policy or webpki's scope differs from plain RFC 5280.
    differs(
        "rfc5280::ca-as-leaf",
        "public-CA policy is stricter: webpki refuses a certificate with basicConstraints cA=TRUE as the end entity \
         (CaUsedAsEndEntity), as CABF forbids; plain RFC 5280 allows it (limbo's webpki::ca-as-leaf expects FAILURE, \
         and fedscan agrees there)",
    ),
    differs(
        "rfc5280::leaf-ku-keycertsign",
        "webpki does not read the end entity's keyUsage, so keyCertSign with cA=FALSE (RFC 5280 4.2.1.9) goes \
         unnoticed; no fedscan rule reads keyUsage",
    ),
    differs(
        "rfc5280::nc::permitted-dns-match-noncritical",
        "webpki enforces nameConstraints whether or not the extension is marked critical (CABF permits a \
         non-critical one); example.com is inside the permitted subtree, and only the criticality RFC 5280 requires \
         is wrong",
    ),
    differs(
        "rfc5280::root-missing-basic-constraints",
        "webpki takes a trust anchor as subject, public key and name constraints only (anchor_from_trusted_cert): \
         the root's other extensions, here the missing basicConstraints, are never checked",
    ),
    differs_by(
        "rfc5280::san::noncritical-with-empty-subject",
        "TLS-NAME-02",
        "webpki does not check the criticality of subjectAltName (RFC 5280: critical when the subject is empty); \
         the SAN does name example.com. TLS-NAME-02 fails the certificate for its empty subject (no common name)",
    ),
    differs(
        "rfc5280::san::underscore-dns",
        "webpki accepts '_' in dNSName labels for compatibility (as browsers do), although RFC 5280's preferred \
         name syntax forbids it; foo_bar.example.com matches the SAN",
    ),
    differs(
        "rfc5280::validity::expired-root",
        "webpki does not check a trust anchor's validity period (an anchor is subject and key; store maintainers \
         remove expired roots); leaf and intermediate are valid at 2022-01-01",
    ),
    // webpki:: cases: requirements of the CABF profile that webpki, a client, does not enforce, and whether a
    // fedscan certificate rule covers them.
    differs(
        "webpki::cn::case-mismatch",
        "webpki ignores the subject CN (names come from the SAN); TLS-NAME-03 compares CN and SAN entries \
         case-insensitively, as DNS names are, so CN Example.COM with SAN example.com passes it: the BR 7.1.4.3 \
         character-for-character copy is an issuance rule that changes nothing for a TLS client",
    ),
    differs_by(
        "webpki::cn::ipv4-hex-mismatch",
        "TLS-NAME-03",
        "webpki ignores the subject CN and the peer address is an iPAddress SAN; the CN 0xC0A80101 not being a \
         copy of a SAN entry (BR 7.1.4.3) is TLS-NAME-03's concern, which fails it",
    ),
    differs_by(
        "webpki::cn::ipv4-leading-zeros-mismatch",
        "TLS-NAME-03",
        "webpki ignores the subject CN and the peer address is an iPAddress SAN; the CN 192.168.001.001 not being a \
         copy of a SAN entry (BR 7.1.4.3) is TLS-NAME-03's concern, which fails it",
    ),
    differs_by(
        "webpki::cn::ipv6-non-rfc5952-mismatch",
        "TLS-NAME-03",
        "webpki ignores the subject CN and the peer address is an iPAddress SAN; the non-RFC 5952 CN is judged by \
         TLS-NAME-03, which fails it (it compares the CN with dNSName entries)",
    ),
    differs_by(
        "webpki::cn::ipv6-uncompressed-mismatch",
        "TLS-NAME-03",
        "webpki ignores the subject CN and the peer address is an iPAddress SAN; the uncompressed CN is judged by \
         TLS-NAME-03, which fails it (it compares the CN with dNSName entries)",
    ),
    differs_by(
        "webpki::cn::ipv6-uppercase-mismatch",
        "TLS-NAME-03",
        "webpki ignores the subject CN and the peer address is an iPAddress SAN; the upper-case CN is judged by \
         TLS-NAME-03, which fails it (it compares the CN with dNSName entries)",
    ),
    differs_by(
        "webpki::cn::not-in-san",
        "TLS-NAME-03",
        "webpki ignores the subject CN and valid.example.com is in the SAN; the CN notinsan.example.com missing \
         from the SAN is exactly TLS-NAME-03, which fails it",
    ),
    differs_by(
        "webpki::cn::punycode-not-in-san",
        "TLS-NAME-03",
        "webpki ignores the subject CN and xn--n3h.com is in the SAN; the CN xn--nxasmq6b.com missing from the SAN \
         is exactly TLS-NAME-03, which fails it",
    ),
    differs_by(
        "webpki::cn::utf8-vs-punycode-mismatch",
        "TLS-NAME-03",
        "webpki ignores the subject CN and the A-label is in the SAN; the U-label CN is not a SAN entry, which \
         TLS-NAME-03 fails",
    ),
    differs(
        "webpki::eku::ee-anyeku",
        "the EKU holds serverAuth and anyExtendedKeyUsage: webpki needs serverAuth and finds it; CABF 7.1.2.7.10 \
         forbids anyEKU in subscriber certificates, an issuance rule; TLS-EKU-01 passes too (serverAuth present)",
    ),
    differs(
        "webpki::eku::ee-critical-eku",
        "webpki understands the EKU extension, so its criticality does not matter to it; CABF's non-critical \
         requirement is an issuance rule no fedscan rule checks (TLS-EKU-01 sees serverAuth)",
    ),
    differs_by(
        "webpki::eku::ee-without-eku",
        "TLS-EKU-01",
        "webpki (KeyUsage::server_auth, required only if an EKU is present) accepts an end entity without EKU, as \
         RFC 5280 does; CABF requires the extension, and so does TLS-EKU-01 (CertInfo.server_auth == None fails)",
    ),
    differs(
        "webpki::eku::root-has-eku",
        "webpki takes a trust anchor as subject and key and never reads the root's extKeyUsage (CABF forbids it in \
         roots, an issuance rule)",
    ),
    differs_by(
        "webpki::forbidden-dsa-leaf",
        "TLS-KEY-01",
        "path validation verifies only the signatures made by CA keys (the root's P-256); the leaf's own DSA key is \
         used only in the handshake. TLS-KEY-01 fails it (CertInfo.key_algorithm == \"DSA\")",
    ),
    differs_by(
        "webpki::forbidden-p192-leaf",
        "TLS-KEY-01",
        "path validation verifies only the signatures made by CA keys; the leaf's P-192 key is used only in the \
         handshake. TLS-KEY-01 fails it (CertInfo.curve == \"P-192\")",
    ),
    differs(
        "webpki::forbidden-rsa-key-not-divisible-by-8-in-leaf",
        "the leaf's key signs nothing in the path, and TLS-KEY-01 requires RSA >= 2048 bits only: 2052 passes; \
         CABF 6.1.5's modulus-divisible-by-8 rule is checked neither by webpki nor by fedscan",
    ),
    differs(
        "webpki::forbidden-rsa-not-divisible-by-8-in-root",
        "ring verifies RSA PKCS#1 signatures for any modulus from 2048 to 8192 bits, so the 2052-bit root's \
         signature verifies; CABF 6.1.5's divisible-by-8 rule is an issuance rule webpki does not check",
    ),
    differs_by(
        "webpki::forbidden-weak-rsa-in-leaf",
        "TLS-KEY-01",
        "path validation verifies only the signatures made by CA keys (the root's P-256); the leaf's RSA-1024 key is \
         used only in the handshake. TLS-KEY-01 fails it (key_bits 1024 < 2048)",
    ),
    differs_by(
        "webpki::san::public-suffix-multi-label-wildcard-san",
        "TLS-NAME-05",
        "webpki has no public suffix list: *.co.uk matches example.co.uk; TLS-NAME-05 fails every wildcard SAN",
    ),
    differs_by(
        "webpki::san::public-suffix-private-namespace-wildcard-san",
        "TLS-NAME-05",
        "webpki has no public suffix list: *.s3.amazonaws.com matches example.s3.amazonaws.com; TLS-NAME-05 fails \
         every wildcard SAN",
    ),
    differs_by(
        "webpki::san::san-critical-with-nonempty-subject",
        "TLS-NAME-03",
        "webpki does not check subjectAltName criticality (CABF: not critical when the subject is non-empty, an \
         issuance rule) and example.com is in the SAN; TLS-NAME-03 still fails the certificate, for its CN \
         something-else missing from the SAN, not for the criticality",
    ),
];

#[test]
fn x509_limbo_subset() {
    let rules = rules();
    let root = suites().join("x509-limbo/subset");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    assert_eq!(dirs.len(), 88, "the subset has 88 cases");
    let mut results = Vec::new();
    let mut problems = Vec::new();
    for dir in dirs {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        let id = case["id"].as_str().unwrap().to_string();
        assert_eq!(case["validation_kind"], "SERVER", "{id}");
        // null: now (the generated certificates are valid from 1970 to 2969).
        let now = match case["validation_time"].as_str() {
            Some(t) => OffsetDateTime::parse(t, &Rfc3339).unwrap_or_else(|e| panic!("{id}: {t}: {e}")),
            None => OffsetDateTime::now_utc(),
        };
        // extended_key_usage is [] or [serverAuth]: fedscan always asks for serverAuth (KeyUsage::server_auth).
        let ekus = case["extended_key_usage"].as_array().unwrap();
        assert!(ekus.iter().all(|e| e == "serverAuth"), "{id}: EKU {ekus:?}");
        assert!(case["max_chain_depth"].is_null(), "{id}: max_chain_depth");
        let name = case["expected_peer_name"]["value"].as_str().unwrap();
        let mut chain = pem_chain(&dir.join("leaf.pem"));
        assert_eq!(chain.len(), 1, "{id}: one leaf");
        chain.extend(pem_chain(&dir.join("intermediates.pem")));
        let stores = [trust(&dir.join("roots.pem"))];
        let verdict = validate_for_name(&chain, &stores, now, name);
        let expected = case["expected_result"].as_str().unwrap();
        let success = matches!(verdict, ChainVerdict::Trusted { .. });
        if let Some(rule) = LIMBO_DIFFERENCES.iter().find(|d| d.id == id).and_then(|d| d.flagged_by) {
            let (fails, said) = rule_on_file(&rules, rule, &dir.join("leaf.pem"), now, &[name.to_string()]);
            if !fails {
                problems.push(format!("x509-limbo {id}: listed as failed by {rule}, but {said}"));
            }
        }
        results.push(Compared {
            id,
            agrees: success == (expected == "SUCCESS"),
            detail: format!("expected {expected}, got {} for {name}", short(&verdict)),
        });
    }
    problems.extend(tally("x509-limbo", &results, LIMBO_DIFFERENCES));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ----------------------------------------------------------------- bettertls

/// fedscan agrees with every bettertls path-building case.
const BETTERTLS_DIFFERENCES: &[Differs] = &[];

#[test]
fn bettertls_path_building() {
    let root = suites().join("bettertls");
    let now = OffsetDateTime::from_unix_timestamp(1_688_651_734).unwrap(); // 2023-07-06T13:55:34Z
    let stores = [trust(&root.join("trust_root.pem"))];
    let csv = std::fs::read_to_string(root.join("expected.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("id,expected,required_features,hostname,failure_is_warning,n_intermediates"));
    let mut results = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 6, "{line}");
        let (number, expected, features, hostname) =
            (fields[0].parse::<u32>().unwrap(), fields[1], fields[2], fields[3]);
        let id = format!("tc{number:03}");
        let dir = root.join("cases").join(&id);
        let mut chain = pem_chain(&dir.join("leaf.pem"));
        assert_eq!(chain.len(), 1, "{id}: one leaf");
        chain.extend(pem_chain(&dir.join("intermediates.pem")));
        let verdict = validate_for_name(&chain, &stores, now, hostname);
        let success = matches!(verdict, ChainVerdict::Trusted { .. });
        results.push(Compared {
            id,
            agrees: success == (expected == "ACCEPT"),
            detail: format!("expected {expected} [{features}], got {}", short(&verdict)),
        });
    }
    assert_eq!(results.len(), 81);
    let problems = tally("bettertls", &results, BETTERTLS_DIFFERENCES);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// --------------------------------------------------------------------- zlint

/// The zlint lints fedscan has an equivalent of: (lint, fedscan rule, the
/// CertInfo property or verdict it corresponds to). A lint's Error or Warn
/// must be a failure of the rule; Pass, NA (not applicable) and NE (not
/// effective at the issuance date) must not.
const ZLINT_MAP: &[(&str, &str, &str)] = &[
    ("e_rsa_mod_less_than_2048_bits", "TLS-KEY-01", "key_algorithm RSA and key_bits < 2048"),
    ("e_old_sub_cert_rsa_mod_less_than_1024_bits", "TLS-KEY-01", "RSA key_bits below the floor (fedscan: 2048)"),
    ("e_ec_improper_curves", "TLS-KEY-01", "key_algorithm EC and curve not P-256/P-384/P-521"),
    ("e_dsa_shorter_than_2048_bits", "TLS-KEY-01", "key_algorithm DSA (any size fails)"),
    ("e_br_prohibit_dsa_usage", "TLS-KEY-01", "key_algorithm DSA"),
    ("e_prohibit_dsa_usage", "TLS-KEY-01", "key_algorithm DSA"),
    ("e_sub_cert_or_sub_ca_using_sha1", "TLS-SIG-01", "signature SHA-1 (sha1WithRSAEncryption, ecdsa-with-SHA1)"),
    ("e_signature_algorithm_not_supported", "TLS-SIG-01", "signature not SHA-2 with RSA PKCS#1 v1.5 or ECDSA"),
    ("e_sub_cert_eku_missing", "TLS-EKU-01", "server_auth == None (no EKU extension)"),
    ("e_sub_cert_eku_server_auth_client_auth_missing", "TLS-EKU-01", "server_auth != Some(true)"),
    ("e_sub_cert_eku_check", "TLS-EKU-01", "server_auth != Some(true)"),
    ("e_subject_common_name_not_from_san", "TLS-NAME-03", "common_name not among dns_names"),
    ("e_subject_common_name_not_exactly_from_san", "TLS-NAME-03", "common_name not among dns_names"),
    ("e_ext_san_missing", "TLS-NAME-01", "dns_names empty: the Edge FQDN (here the CN) is not in the SAN"),
    ("e_ext_san_no_entries", "TLS-NAME-01", "dns_names empty: the Edge FQDN (here the CN) is not in the SAN"),
    ("e_dnsname_left_label_wildcard_correct", "TLS-NAME-05", "a dns_names entry with '*'"),
    ("e_dnsname_wildcard_only_in_left_label", "TLS-NAME-05", "a dns_names entry with '*'"),
    ("e_san_bare_wildcard", "TLS-NAME-05", "a dns_names entry with '*'"),
    ("e_san_wildcard_not_first", "TLS-NAME-05", "a dns_names entry with '*'"),
    (
        "e_validity_time_not_positive",
        "TLS-EXP-01",
        "fails at the certificate's own not_before (not_after < not_before)",
    ),
    (
        "e_invalid_certificate_version",
        "TLS-CHAIN-01",
        "validate() verdict Other(not an X.509 version 3 certificate): webpki takes v3 only",
    ),
];

/// The lints not compared, and why fedscan has no equivalent.
const ZLINT_NOT_COMPARED: &[(&str, &str)] = &[
    ("e_tls_server_cert_valid_time_longer_than_398_days", "no rule on the validity length"),
    ("w_tls_server_cert_valid_time_longer_than_397_days", "no rule on the validity length"),
    ("e_sub_cert_valid_time_longer_than_825_days", "no rule on the validity length"),
    ("e_sub_cert_valid_time_longer_than_39_months", "no rule on the validity length"),
    ("e_old_root_ca_rsa_mod_less_than_2048_bits", "root CA certificates: TLS-KEY-01 judges the Edge's certificate"),
    ("w_sub_cert_sha1_expiration_too_long", "judges the expiry date of SHA-1 certificates, not the algorithm"),
    ("w_sub_cert_eku_extra_values", "fedscan does not judge EKU purposes besides serverAuth/clientAuth"),
    ("e_eku_critical", "fedscan does not judge extension criticality"),
    ("e_ext_san_not_critical_without_subject", "fedscan does not judge extension criticality"),
    ("w_ext_san_critical_with_subject_dn", "fedscan does not judge extension criticality"),
    ("e_sub_cert_basic_constraints_not_critical", "fedscan does not judge extension criticality"),
    ("e_san_shall_be_present", "S/MIME certificates"),
    ("e_subject_empty_without_san", "fedscan does not judge the subject's emptiness as such"),
    ("e_ext_san_contains_reserved_ip", "fedscan reads only dNSName SAN entries"),
    ("e_ext_san_empty_name", "no check of SAN syntax"),
    ("e_ext_san_dns_name_too_long", "no check of SAN syntax"),
    ("e_ext_san_space_dns_name", "no check of SAN syntax"),
    ("e_san_dns_name_starts_with_period", "no check of SAN syntax"),
    ("e_dnsname_not_valid_tld", "no check of top-level domains"),
    ("e_sub_cert_key_usage_cert_sign_bit_set", "no rule on keyUsage"),
    ("e_sub_cert_key_usage_crl_sign_bit_set", "no rule on keyUsage"),
    ("e_ext_key_usage_cert_sign_without_ca", "no rule on keyUsage"),
    ("e_rsa_public_exponent_not_odd", "TLS-KEY-01 judges the modulus size only"),
    ("e_rsa_public_exponent_too_small", "TLS-KEY-01 judges the modulus size only"),
    ("w_rsa_public_exponent_not_in_range", "TLS-KEY-01 judges the modulus size only"),
    ("w_rsa_mod_not_odd", "TLS-KEY-01 judges the modulus size only"),
    ("w_rsa_mod_factors_smaller_than_752", "TLS-KEY-01 judges the modulus size only"),
    ("e_rsa_fermat_factorization", "TLS-KEY-01 judges the modulus size only"),
];

/// Triples where fedscan's rule and the lint disagree; ids are `lint/file`.
const ZLINT_DIFFERENCES: &[Differs] = &[
    differs(
        "e_old_sub_cert_rsa_mod_less_than_1024_bits/oldSubSmall.pem",
        "the lint applies the 1024-bit floor of certificates issued before 2014; TLS-KEY-01 applies today's 2048-bit \
         floor whatever the issuance date: RSA-1024 fails",
    ),
    differs(
        "e_dsa_shorter_than_2048_bits/dsaNotShorterThan2048Bits.pem",
        "the lint checks only the DSA key length; TLS-KEY-01 accepts RSA and ECDSA keys only, so a DSA key of any \
         size fails (DSA is banned by the BRs and no current TLS client uses it)",
    ),
    differs(
        "e_br_prohibit_dsa_usage/dsaCorrectOrderInSubgroup.pem",
        "zlint NE: the BR ban on DSA is not effective for a certificate issued in 2015; fedscan judges the \
         certificate as partners see it now, whatever its issuance date: a DSA key fails TLS-KEY-01",
    ),
    differs(
        "e_prohibit_dsa_usage/dsaCorrectOrderInSubgroup.pem",
        "zlint NE: the DSA ban is not effective for a certificate issued in 2015; fedscan judges the certificate as \
         partners see it now: a DSA key fails TLS-KEY-01",
    ),
    differs(
        "e_sub_cert_or_sub_ca_using_sha1/rsawithsha1before2016.pem",
        "zlint NE: the SHA-1 ban applies to certificates issued from 2016; fedscan judges the signature as modern \
         clients do, whatever the issuance date: SHA-1 fails TLS-SIG-01",
    ),
    differs(
        "e_signature_algorithm_not_supported/sha1WithRSASignatureAlgorithm.pem",
        "the lint's list of algorithms still includes sha1WithRSAEncryption; TLS-SIG-01 fails SHA-1 (refused by \
         modern clients, at its sha1_severity)",
    ),
    differs(
        "e_sub_cert_eku_server_auth_client_auth_missing/subExtKeyUsageCodeSign.pem",
        "zlint NA: a certificate with neither serverAuth nor clientAuth is not a TLS subscriber certificate to the \
         lint; fedscan judges every Edge or --cert-file certificate as a server certificate: without serverAuth it \
         fails TLS-EKU-01",
    ),
    differs(
        "e_sub_cert_eku_check/subExtKeyUsageClientAuthPreBRv2.pem",
        "zlint NE: the BR v2 EKU profile is not effective for a certificate issued in 2021; fedscan judges it now: \
         clientAuth without serverAuth fails TLS-EKU-01",
    ),
    differs(
        "e_sub_cert_eku_check/subExtKeyUsageServerAuthAndTimeStamping.pem",
        "TLS-EKU-01 checks only that serverAuth is present, as a TLS client does; extra purposes (timeStamping, \
         forbidden by the BR profile) are an issuance matter fedscan does not judge",
    ),
    differs(
        "e_sub_cert_eku_check/subExtKeyUsageServerAuthAndPreCertSigCert.pem",
        "TLS-EKU-01 checks only that serverAuth is present, as a TLS client does; the extra CT precertificate \
         signing purpose is an issuance matter fedscan does not judge",
    ),
    differs(
        "e_sub_cert_eku_check/subExtKeyUsageServerAuthAndUnknown.pem",
        "TLS-EKU-01 checks only that serverAuth is present; an unknown extra purpose (zlint Warn) is not judged",
    ),
    differs(
        "e_subject_common_name_not_exactly_from_san/SANCaseNotMatchingCNSeptember2021.pem",
        "TLS-NAME-03 compares the CN with the SAN case-insensitively, as DNS names compare (TLS clients match them \
         so); the BR's character-for-character copy of the SAN entry is an issuance rule",
    ),
    differs(
        "e_subject_common_name_not_exactly_from_san/SANWithMissingCN.pem",
        "zlint NE: the exact-copy lint is effective for certificates from September 2021 (this one is from 2016); \
         TLS-NAME-03 judges it now: its CN is not a SAN entry",
    ),
    differs(
        "e_dnsname_wildcard_only_in_left_label/dnsNameWildcardOnlyInLeftLabel.pem",
        "*.surya.co.uk is a well-formed wildcard; TLS-NAME-05 fails every wildcard, well placed or not, since the \
         Access Edge does not support wildcard certificates",
    ),
    differs(
        "e_san_bare_wildcard/SANURIValid.pem",
        "*.gov.us is a well-formed wildcard; TLS-NAME-05 fails every wildcard (the Access Edge does not support them)",
    ),
    differs(
        "e_san_wildcard_not_first/SANURIValid.pem",
        "*.gov.us is a well-formed wildcard; TLS-NAME-05 fails every wildcard (the Access Edge does not support them)",
    ),
];

#[test]
fn zlint_subset() {
    let rules = rules();
    let root = suites().join("zlint");
    let triples: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(root.join("expected.json")).unwrap()).unwrap();
    assert_eq!(triples.len(), 139);
    let map: BTreeMap<&str, (&str, &str)> = ZLINT_MAP.iter().map(|(l, r, p)| (*l, (*r, *p))).collect();
    let skipped: BTreeMap<&str, &str> = ZLINT_NOT_COMPARED.iter().copied().collect();
    let mut problems = Vec::new();
    let mut results = Vec::new();
    let mut not_compared = BTreeSet::new();
    let mut n_not_compared = 0;
    for triple in &triples {
        let lint = triple["lint"].as_str().unwrap();
        let input = triple["input"].as_str().unwrap();
        let expected = triple["expected"].as_str().unwrap();
        let Some(&(rule, _)) = map.get(lint) else {
            if !skipped.contains_key(lint) {
                problems.push(format!("zlint lint {lint} is neither compared nor listed as not compared"));
            }
            not_compared.insert(lint);
            n_not_compared += 1;
            continue;
        };
        let flagged_by_zlint = match expected {
            "Error" | "Warn" => true,
            "Pass" | "NA" | "NE" => false,
            other => panic!("{lint}/{input}: status {other}"),
        };
        let pem = root.join(triple["pem"].as_str().unwrap());
        let der = pem_chain(&pem).remove(0);
        let info = cert_info(&der).unwrap_or_else(|e| panic!("{input}: {e}"));
        let (fails, said) = match rule {
            "TLS-CHAIN-01" => {
                // The certificate as its own trust anchor: what is left is
                // webpki's judgement of the certificate itself.
                let store = TrustStore { name: "itself".into(), anchors: vec![b64(&der)] };
                let verdict = validate(std::slice::from_ref(&der), &[store], info.not_before);
                let version =
                    matches!(&verdict, ChainVerdict::Other { reason } if reason.contains("not an X.509 version 3"));
                (version, format!("validate: {}", short(&verdict)))
            }
            "TLS-NAME-01" => {
                let edge = info
                    .common_name
                    .clone()
                    .or_else(|| info.dns_names.first().cloned())
                    .unwrap_or_else(|| "edge.example.com".into());
                rule_on_file(&rules, rule, &pem, info.not_before, &[edge])
            }
            // TLS-EXP-01 at the certificate's not_before: a positive
            // validity passes there, a negative one has already expired.
            _ => rule_on_file(&rules, rule, &pem, info.not_before, &[]),
        };
        results.push(Compared {
            id: format!("{lint}/{input}"),
            agrees: fails == flagged_by_zlint,
            detail: format!("zlint {expected}; {said}"),
        });
    }
    for lint in ZLINT_MAP.iter().map(|m| m.0).chain(ZLINT_NOT_COMPARED.iter().map(|n| n.0)) {
        if !triples.iter().any(|t| t["lint"] == lint) {
            problems.push(format!("zlint lint {lint} is listed but has no triple"));
        }
    }
    eprintln!("zlint lints compared, with fedscan's equivalent:");
    for (lint, rule, property) in ZLINT_MAP {
        eprintln!("  {lint} <-> {rule}: {property}");
    }
    eprintln!(
        "zlint: {n_not_compared} triples of {} lints not compared (no equivalent fedscan check)",
        not_compared.len()
    );
    problems.extend(tally("zlint", &results, ZLINT_DIFFERENCES));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
