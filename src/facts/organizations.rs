//! Which scanned SIP domains belong to one organization, for the rules that
//! compare domains with each other (the Edge certificate names every SIP
//! domain; IPv6 is published alike for every federation host). A scan with
//! the organization's own context — a configuration snapshot or `--edge` — is
//! one organization: the user said these domains are theirs. A batch of
//! domains without it (a provider's customers, a partner list) is grouped by
//! the federation hosts the domains share: domains whose federation SRV
//! records lead to a common host are one organization, the others are apart.
//! Built once per evaluation, in time linear in the domains and records.

use std::collections::HashMap;

use super::Facts;
use super::dns::{DnsIndex, DnsView, RecordKind, srv_name};
use super::endpoints::FEDERATION_SERVICE;

#[derive(Debug, Default)]
pub struct Organizations {
    /// Each organization's domains, in the order of the scan's targets.
    groups: Vec<Vec<String>>,
    of_host: HashMap<String, usize>,
    /// Whether the scan is one organization's by its context.
    pub whole_scan: bool,
}

impl Organizations {
    pub fn new(facts: &Facts, dns: &DnsIndex) -> Organizations {
        Organizations::by_hosts(facts, |domain| {
            let name = srv_name(FEDERATION_SERVICE, domain);
            dns.get(DnsView::External, &name, RecordKind::Srv).map(|fact| fact.srv_hosts()).unwrap_or_default()
        })
    }

    /// The organizations of the scan whose domains' federation SRV records
    /// name the hosts `federation_hosts` gives (lower case, without the
    /// trailing dot).
    pub fn by_hosts(facts: &Facts, federation_hosts: impl Fn(&str) -> Vec<String>) -> Organizations {
        let domains = &facts.targets.domains;
        let whole_scan = !facts.snapshots.is_empty() || !facts.targets.edges.is_empty();
        // Union-find over the domains, joined through the hosts they share.
        let mut parent: Vec<usize> = (0..domains.len()).collect();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        let mut first_with_host: HashMap<String, usize> = HashMap::new();
        for (i, domain) in domains.iter().enumerate() {
            if whole_scan && i > 0 {
                parent[i] = 0;
            }
            for host in federation_hosts(domain) {
                match first_with_host.get(&host) {
                    Some(&j) => {
                        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                        parent[a.max(b)] = a.min(b);
                    }
                    None => {
                        first_with_host.insert(host, i);
                    }
                }
            }
        }
        let mut index_of_root: HashMap<usize, usize> = HashMap::new();
        let mut groups: Vec<Vec<String>> = Vec::new();
        let mut group_of_domain = Vec::with_capacity(domains.len());
        for (i, domain) in domains.iter().enumerate() {
            let r = root(&mut parent, i);
            let g = *index_of_root.entry(r).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(domain.clone());
            group_of_domain.push(g);
        }
        let mut of_host: HashMap<String, usize> =
            first_with_host.into_iter().map(|(host, i)| (host, group_of_domain[i])).collect();
        if whole_scan && !groups.is_empty() {
            for edge in &facts.targets.edges {
                of_host.insert(edge.to_ascii_lowercase(), 0);
            }
        }
        Organizations { groups, of_host, whole_scan }
    }

    /// The organizations, each with at least one domain.
    pub fn groups(&self) -> &[Vec<String>] {
        &self.groups
    }

    /// The domains of the organization whose federation host `host` is.
    pub fn of_host(&self, host: &str) -> Option<&[String]> {
        let group = if self.whole_scan { Some(0) } else { self.of_host.get(&host.to_ascii_lowercase()).copied() };
        group.and_then(|g| self.groups.get(g)).map(Vec::as_slice)
    }
}
