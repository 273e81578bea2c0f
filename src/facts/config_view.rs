//! The configuration as the rules see it: the objects of every snapshot
//! merged by kind, with what was captured and what was not.

use std::collections::BTreeSet;

use super::Facts;
use super::names::{canonical, parse_fqdn};
use super::snapshot::{ConfigObject, ObjectKind, product_from_version_text};
use super::values::as_bool;

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
    Captured(Listing<'a>),
}

/// The objects of one kind the snapshots show.
#[derive(Debug, Clone)]
pub struct Listing<'a> {
    pub objects: Vec<Located<'a>>,
    /// Why the deployment may have more objects of the kind than these (a
    /// filter in the command that printed them), with where: what the
    /// listing lacks proves nothing then.
    pub subset: Option<String>,
}

impl<'a> std::ops::Deref for Listing<'a> {
    type Target = [Located<'a>];

    fn deref(&self) -> &Self::Target {
        &self.objects
    }
}

impl<'a> Listing<'a> {
    /// Why a conclusion from what the listing lacks cannot be drawn, if it
    /// cannot: the listing is a subset, or `names` (the property that
    /// identifies an entry) is not known whole for some objects.
    pub fn lacks_proof(&self, names: Option<&str>) -> Option<String> {
        if let Some(why) = &self.subset {
            return Some(format!("the snapshot shows only some of them ({why})"));
        }
        let name = names?;
        self.objects.iter().find_map(|l| l.object.doubt(name).map(|why| format!("{}: {why}", l.location(Some(name)))))
    }
}

/// The organization's SIP domains as far as the inputs show them.
#[derive(Debug, Clone, Default)]
pub struct SipDomains {
    pub names: BTreeSet<String>,
    /// Why the deployment may have SIP domains beyond these, if it may.
    pub incomplete: Option<String>,
}

/// Who holds a per-user (`Tag:`) policy, as far as the snapshot shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holders {
    /// `holders` of the `users` listed hold it and are enabled; `disabled`
    /// more hold it but are disabled, and reach no one.
    Counted { holders: usize, users: usize, disabled: usize },
    /// The snapshot has no `Get-CsUser` output.
    NoUsers,
    /// The user listing cannot tell: it failed, is a subset, or leaves the
    /// policy out.
    Unknown(String),
}

impl Holders {
    /// What a message adds when a policy's only holders are disabled users.
    pub fn only_disabled(disabled: usize) -> String {
        if disabled == 0 { String::new() } else { format!(" but {disabled} disabled user(s), who cannot sign in") }
    }
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
        // A subset counts only when no snapshot holds the whole output.
        let mut whole = false;
        let mut subset = None;
        for snapshot in &self.facts.snapshots {
            for capture in snapshot.captures.iter().filter(|c| c.kind == kind) {
                if capture.complete {
                    captured = true;
                    match &capture.subset {
                        None => whole = true,
                        Some(why) => {
                            let at = match capture.line {
                                Some(line) => format!("{}:{line}", snapshot.path),
                                None => snapshot.path.clone(),
                            };
                            subset.get_or_insert_with(|| format!("{why}, {at}"));
                        }
                    }
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
            (true, _) => Objects::Captured(Listing { objects: found, subset: if whole { None } else { subset } }),
            (false, Some(location)) => Objects::Failed { location },
            (false, None) => Objects::NotCaptured,
        }
    }

    /// Who holds the per-user policy `identity` (`Tag:PIC`) of the user
    /// property `assignment` (`ExternalAccessPolicy`): `Get-CsUser` prints
    /// the policy's name without `Tag:`, and nothing for a user under the
    /// global or site policy. A holder counts only when the listing shows
    /// it enabled: a disabled user cannot sign in, and one whose `Enabled`
    /// is not shown may be disabled.
    pub fn policy_holders(&self, assignment: &str, identity: &str) -> Holders {
        let tag = identity.trim();
        let tag = tag.get(..4).filter(|p| p.eq_ignore_ascii_case("tag:")).map_or(tag, |_| tag[4..].trim());
        let listing = match self.objects(ObjectKind::User) {
            Objects::NotCaptured => return Holders::NoUsers,
            Objects::Failed { location } => {
                return Holders::Unknown(format!("`Get-CsUser` printed an error ({location})"));
            }
            Objects::Captured(listing) => listing,
        };
        let holds = |policy: &str| {
            let policy = policy.trim();
            let policy =
                policy.get(..4).filter(|p| p.eq_ignore_ascii_case("tag:")).map_or(policy, |_| policy[4..].trim());
            policy.eq_ignore_ascii_case(tag)
        };
        let (mut holders, mut disabled) = (0, 0);
        let mut unknown = None;
        for user in listing.iter() {
            match (user.object.get(assignment), user.object.doubt(assignment)) {
                (_, Some(why)) => unknown = unknown.or(Some(format!("{}: {why}", user.location(Some(assignment))))),
                (Some((_, value)), None) if value.as_str().is_some_and(holds) => {
                    let enabled = match (user.object.get("Enabled"), user.object.doubt("Enabled")) {
                        (Some((_, value)), None) => as_bool(value),
                        _ => None,
                    };
                    match enabled {
                        Some(true) => holders += 1,
                        Some(false) => disabled += 1,
                        None => {
                            unknown = unknown.or(Some(format!(
                                "{} holds it, but whether the user is enabled is not shown (a disabled user cannot sign in); export `Get-CsUser | Select-Object SipAddress,Enabled,{assignment}`",
                                user.location(Some("Enabled"))
                            )))
                        }
                    }
                }
                (Some(_), None) => {}
                (None, None) => {
                    unknown = unknown.or(Some(format!(
                        "{}: the user listing leaves out {assignment}; export `Get-CsUser | Select-Object SipAddress,{assignment}`",
                        user.location(None)
                    )))
                }
            }
        }
        match (holders, unknown.or_else(|| listing.lacks_proof(None))) {
            (0, Some(why)) => Holders::Unknown(why),
            (holders, _) => Holders::Counted { holders, users: listing.len(), disabled },
        }
    }

    /// SIP domains: from `Get-CsSipDomain` and the domains named on the
    /// command line, lower-cased, without a trailing dot.
    pub fn sip_domains(&self) -> SipDomains {
        let mut domains =
            SipDomains { names: self.extra_domains.iter().map(|d| canonical(d)).collect(), incomplete: None };
        if let Objects::Captured(listing) = self.objects(ObjectKind::SipDomain) {
            domains.incomplete = listing.lacks_proof(Some("Name"));
            for located in listing.iter() {
                let property = if located.object.get("Name").is_some() { "Name" } else { "Identity" };
                if located.object.doubt(property).is_some() {
                    continue;
                }
                let name = located.object.get(property).and_then(|(_, v)| v.as_str());
                let Some(name) = name.filter(|n| !n.trim().is_empty()) else { continue };
                // What is no domain name never becomes a SIP domain (a cell
                // cut out of a mangled table, a value of another column).
                match parse_fqdn(name) {
                    Ok(domain) => {
                        domains.names.insert(domain);
                    }
                    Err(why) => {
                        domains.incomplete = domains
                            .incomplete
                            .or(Some(format!("{}: {why}, so it is no SIP domain", located.location(Some(property)))))
                    }
                }
            }
        }
        domains
    }

    /// The product, from `Get-CsServerVersion` when the snapshot has it, else
    /// the family from a property only Skype for Business Server has. The
    /// absence of a property proves nothing (an export from a newer release
    /// may leave properties out, and Microsoft's own samples do), so no
    /// product is ever told from what an export lacks.
    pub fn product(&self) -> Option<Product> {
        if let Objects::Captured(listing) = self.objects(ObjectKind::ServerVersion) {
            for located in listing.objects {
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
        const SKYPE_FOR_BUSINESS_ONLY: [(ObjectKind, &[&str]); 2] = [
            (ObjectKind::AccessEdgeConfiguration, &["SkypeSearchUrl", "DnsSrvCacheRecordCount"]),
            (ObjectKind::PublicProvider, &["EnableSkypeIdRouting", "EnableSkypeDirectorySearch"]),
        ];
        for (kind, properties) in SKYPE_FOR_BUSINESS_ONLY {
            let Objects::Captured(listing) = self.objects(kind) else { continue };
            for located in listing.objects {
                if let Some(property) = properties.iter().find(|p| located.object.get(p).is_some()) {
                    return Some(Product {
                        name: "Skype for Business Server 2015 or later".into(),
                        evidence: format!(
                            "{}: {} has {property}, which only Skype for Business Server has",
                            located.location(Some(property)),
                            kind.name()
                        ),
                        exact: false,
                    });
                }
            }
        }
        None
    }
}
