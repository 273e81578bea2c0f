//! A batch judged in chunks of whole organizations: the facts of one
//! gathering split between the chunks (each chunk's DNS answers moved to
//! it, an answer two chunks read copied and counted) and put back together
//! as one gathering would have them.

use super::{Facts, Inputs, Targets, dns};

impl Facts {
    /// Takes back the answers and probes of the chunks a batch was gathered
    /// in (see [`Facts::chunk`]), in the order one gathering gives them.
    pub fn absorb(&mut self, parts: Vec<Facts>) {
        for mut part in parts {
            part.dns.truncate(part.own_dns().len());
            self.dns.extend(part.dns);
            self.tls.extend(part.tls);
            self.sip.extend(part.sip);
            self.interrupted |= part.interrupted;
        }
        self.sort_lists();
    }

    /// Splits the DNS facts between chunks of the scanned domains (a batch
    /// judged a chunk at a time), moved, not copied (see [`split_answers`]);
    /// the answers no chunk claims stay here.
    pub fn split_dns(&mut self, chunks: &[Vec<String>]) -> Vec<(Vec<dns::DnsFact>, usize)> {
        let (split, unclaimed) =
            split_answers(std::mem::take(&mut self.dns), chunks, |f| &f.name, dns::DnsFact::srv_hosts);
        self.dns = unclaimed;
        split
    }

    /// The facts of one chunk of the scanned domains, with its DNS answers
    /// and how many of them are copies (see [`Facts::split_dns`]), and
    /// nothing probed yet.
    pub fn chunk(&self, domains: &[String], (dns, shared_dns): (Vec<dns::DnsFact>, usize)) -> Facts {
        // Every field but the batch's domains, which a large batch would
        // otherwise copy once per chunk.
        let inputs = Inputs {
            domains: domains.to_vec(),
            partners: self.inputs.partners.clone(),
            config: self.inputs.config.clone(),
            edges: self.inputs.edges.clone(),
            shard: self.inputs.shard.clone(),
        };
        let mut part = Facts::new(inputs, self.gathered_at);
        part.targets = Targets {
            domains: domains.to_vec(),
            edges: self.targets.edges.clone(),
            xmpp: self.targets.xmpp,
            partners: self.targets.partners.clone(),
            edge_port: self.targets.edge_port,
        };
        part.dns = dns;
        part.shared_dns = shared_dns;
        part.trust = self.trust.clone();
        part
    }

    /// The DNS answers this chunk holds for itself (not the copies of
    /// answers another chunk holds).
    pub fn own_dns(&self) -> &[dns::DnsFact] {
        &self.dns[..self.dns.len().saturating_sub(self.shared_dns)]
    }
}

/// Splits DNS answers (or where a facts file keeps them, by `name` and the
/// hosts their SRV records name) between chunks of the scanned domains:
/// to each chunk the answers about names in its domains' zones and about
/// the hosts their SRV records name. A host two chunks' records name would
/// have made them one organization; but a host a chunk's records name can
/// be in the zone of another chunk's domain (a provider's Edge, the
/// provider's own domain scanned too): that answer goes to both, the copy
/// last and counted (see [`Facts::shared_dns`]). Also returns the answers
/// no chunk claims.
#[allow(clippy::type_complexity)]
pub fn split_answers<T: Clone>(
    answers: Vec<T>,
    chunks: &[Vec<String>],
    name: impl Fn(&T) -> &str,
    srv_hosts: impl Fn(&T) -> Vec<String>,
) -> (Vec<(Vec<T>, usize)>, Vec<T>) {
    let chunk_of: std::collections::HashMap<&str, usize> =
        chunks.iter().enumerate().flat_map(|(i, c)| c.iter().map(move |d| (d.as_str(), i))).collect();
    let zone = |name: &str| -> Option<usize> {
        let mut rest = name;
        loop {
            if let Some(&i) = chunk_of.get(rest) {
                return Some(i);
            }
            rest = rest.split_once('.')?.1;
        }
    };
    let mut host_chunk: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for answer in &answers {
        if let Some(i) = zone(name(answer)) {
            for host in srv_hosts(answer) {
                host_chunk.entry(host).or_insert(i);
            }
        }
    }
    let mut own: Vec<Vec<T>> = vec![Vec::new(); chunks.len()];
    let mut copies: Vec<Vec<T>> = vec![Vec::new(); chunks.len()];
    let mut unclaimed = Vec::new();
    // Taken from the end, the list given back as it empties: a batch's
    // answers are then never held twice over (each list is reversed back
    // into the answers' order at the end).
    let mut answers = answers;
    while let Some(answer) = answers.pop() {
        match (zone(name(&answer)), host_chunk.get(name(&answer)).copied()) {
            (Some(home), Some(crossing)) if home != crossing => {
                copies[crossing].push(answer.clone());
                own[home].push(answer);
            }
            (Some(i), _) | (None, Some(i)) => own[i].push(answer),
            (None, None) => unclaimed.push(answer),
        }
        if answers.len() < answers.capacity() / 2 {
            answers.shrink_to_fit();
        }
    }
    unclaimed.reverse();
    let split = own
        .into_iter()
        .zip(copies)
        .map(|(mut answers, mut copies)| {
            answers.reverse();
            copies.reverse();
            let shared = copies.len();
            answers.extend(copies);
            answers.shrink_to_fit();
            (answers, shared)
        })
        .collect();
    (split, unclaimed)
}
