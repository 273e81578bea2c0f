//! The configuration as the rules see it: the objects of every snapshot
//! merged by kind, with what was captured and what was not.

use std::collections::BTreeSet;

use super::Facts;
use super::names::canonical;
use super::snapshot::{ConfigObject, ObjectKind};

/// An object together with the file it came from.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    pub object: &'a ConfigObject,
    pub path: &'a str,
}

impl Located<'_> {
    pub fn location(&self, property: Option<&str>) -> String {
        self.object.location(self.path, property)
    }
}

/// What the snapshots say about one kind of object.
#[derive(Debug, Clone)]
pub enum Objects<'a> {
    /// No snapshot holds this cmdlet's output.
    NotCaptured,
    /// The cmdlet ran but printed an error.
    Failed { location: String },
    /// The cmdlet's output, possibly empty.
    Captured(Vec<Located<'a>>),
}

/// A product family and release, told from the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub name: String,
    /// How it was told: the evidence, for findings.
    pub evidence: String,
    /// False when only the family is known (e.g. "SfB Server 2015 or later").
    pub exact: bool,
}

pub struct ConfigView<'a> {
    facts: &'a Facts,
    extra_domains: Vec<String>,
}

impl<'a> ConfigView<'a> {
    pub fn new(facts: &'a Facts) -> Self {
        ConfigView { facts, extra_domains: facts.inputs.domains.clone() }
    }

    pub fn has_snapshots(&self) -> bool {
        !self.facts.snapshots.is_empty()
    }

    pub fn objects(&self, kind: ObjectKind) -> Objects<'a> {
        let mut captured = false;
        let mut failed = None;
        let mut found = Vec::new();
        for snapshot in &self.facts.snapshots {
            for capture in snapshot.captures.iter().filter(|c| c.kind == kind) {
                if capture.complete {
                    captured = true;
                } else if failed.is_none() {
                    failed = Some(match capture.line {
                        Some(line) => format!("{}:{line}", snapshot.path),
                        None => snapshot.path.clone(),
                    });
                }
            }
            found.extend(
                snapshot
                    .objects
                    .iter()
                    .filter(|o| o.kind == kind)
                    .map(|object| Located { object, path: &snapshot.path }),
            );
        }
        match (captured || !found.is_empty(), failed) {
            (true, _) => Objects::Captured(found),
            (false, Some(location)) => Objects::Failed { location },
            (false, None) => Objects::NotCaptured,
        }
    }

    /// SIP domains: from `Get-CsSipDomain` and the domains named on the
    /// command line, lower-cased, without a trailing dot.
    pub fn sip_domains(&self) -> BTreeSet<String> {
        let mut domains: BTreeSet<String> = self.extra_domains.iter().map(|d| canonical(d)).collect();
        if let Objects::Captured(objects) = self.objects(ObjectKind::SipDomain) {
            for located in objects {
                let name =
                    located.object.get("Name").or_else(|| located.object.get("Identity")).and_then(|(_, v)| v.as_str());
                if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
                    domains.insert(canonical(name));
                }
            }
        }
        domains
    }

    /// The product, from `Get-CsServerVersion` when the snapshot has it, else
    /// from which properties the Access Edge configuration carries.
    pub fn product(&self) -> Option<Product> {
        if let Objects::Captured(objects) = self.objects(ObjectKind::ServerVersion) {
            for located in objects {
                if let Some(text) = located.object.get("Version").and_then(|(_, v)| v.as_str())
                    && let Some(name) = product_from_version_text(text)
                {
                    return Some(Product {
                        name: name.to_string(),
                        evidence: format!("{}: {}", located.location(Some("Version")), text.trim()),
                        exact: true,
                    });
                }
            }
        }
        let Objects::Captured(objects) = self.objects(ObjectKind::AccessEdgeConfiguration) else {
            return None;
        };
        let located = objects.first()?;
        let object = located.object;
        let has = |name: &str| object.get(name).is_some();
        let location = located.location(None);
        if has("SkypeSearchUrl") || has("DnsSrvCacheRecordCount") {
            return Some(Product {
                name: "Skype for Business Server 2015 or later".into(),
                evidence: format!("{location}: Access Edge configuration has SkypeSearchUrl/DnsSrvCacheRecordCount"),
                exact: false,
            });
        }
        // The counters added in 2013, all present without the SfB-only ones,
        // show a complete export from Lync Server 2013.
        let counters = [
            "MaxContactsPerDiscoveredPartner",
            "DiscoveredPartnerStandardRate",
            "EnableDiscoveredPartnerContactsLimit",
            "MaxAcceptedCertificatesStored",
            "CertificatesDeletedPercentage",
        ];
        if counters.iter().all(|c| has(c)) {
            return Some(Product {
                name: "Lync Server 2013".into(),
                evidence: format!(
                    "{location}: Access Edge configuration has the 2013 counters but not SkypeSearchUrl/DnsSrvCacheRecordCount"
                ),
                exact: true,
            });
        }
        None
    }
}

/// Product name from `Get-CsServerVersion` text, e.g. "Skype for Business
/// Server 2019 (7.0.2046.0): Volume license key installed."
pub fn product_from_version_text(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    [
        ("subscription edition", "Skype for Business Server Subscription Edition"),
        ("skype for business server 2019", "Skype for Business Server 2019"),
        ("skype for business server 2015", "Skype for Business Server 2015"),
        ("lync server 2013", "Lync Server 2013"),
        ("lync server 2010", "Lync Server 2010"),
    ]
    .iter()
    .find(|(needle, _)| lower.contains(needle))
    .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_text() {
        assert_eq!(
            product_from_version_text("Skype for Business Server 2019 (7.0.2046.0): Volume license key installed."),
            Some("Skype for Business Server 2019")
        );
        assert_eq!(
            product_from_version_text("Lync Server 2013 (5.0.8308.0): Volume license key installed."),
            Some("Lync Server 2013")
        );
    }
}
