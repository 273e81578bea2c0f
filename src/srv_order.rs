//! RFC 2782 target selection: the order in which a client tries a service's
//! SRV records. Lowest priority first; within a priority, a weighted random
//! choice, weight-0 records first in the list so they are picked only rarely.

use crate::facts::dns::RecordData;

/// An SRV record as the ordering sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

impl Srv {
    pub fn from_data(data: &RecordData) -> Option<Srv> {
        match data {
            RecordData::Srv { priority, weight, port, target } => {
                Some(Srv { priority: *priority, weight: *weight, port: *port, target: target.clone() })
            }
            _ => None,
        }
    }

    /// A lone `.` target: the domain says the service is not offered.
    pub fn is_not_offered(&self) -> bool {
        self.target.is_empty() || self.target == "."
    }
}

/// The order a client tries `records` in. `random(n)` must return a uniform
/// integer in `0..=n`.
pub fn order(records: &[Srv], random: &mut dyn FnMut(u32) -> u32) -> Vec<Srv> {
    let mut priorities: Vec<u16> = records.iter().map(|r| r.priority).collect();
    priorities.sort_unstable();
    priorities.dedup();
    let mut out = Vec::with_capacity(records.len());
    for priority in priorities {
        // Weight-0 records go first, so that a running sum of 0 can only pick
        // them when no weighted record is left.
        let mut pending: Vec<&Srv> = records.iter().filter(|r| r.priority == priority && r.weight == 0).collect();
        pending.extend(records.iter().filter(|r| r.priority == priority && r.weight > 0));
        while !pending.is_empty() {
            let total: u32 = pending.iter().map(|r| u32::from(r.weight)).sum();
            let pick = random(total);
            let mut running = 0u32;
            let index = pending
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(pending.len() - 1);
            out.push(pending.remove(index).clone());
        }
    }
    out
}

/// The order shown in reports: priority, then weight (heaviest first), then
/// target; deterministic, unlike the client's choice.
pub fn display_order(records: &[Srv]) -> Vec<Srv> {
    let mut sorted = records.to_vec();
    sorted.sort_by(|a, b| {
        (a.priority, std::cmp::Reverse(a.weight), &a.target).cmp(&(b.priority, std::cmp::Reverse(b.weight), &b.target))
    });
    sorted
}

/// A small deterministic generator for `order` (xorshift), so tests and
/// reports need no global randomness.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn below_or_equal(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % (u64::from(n) + 1)) as u32
    }
}
