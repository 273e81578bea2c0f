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

/// What an SRV answer says about the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// No record at all.
    Absent,
    /// Only `.` targets: the domain declares the service not offered.
    NotOffered,
    /// The usable records (any `.` among others left out).
    Offered(Vec<Srv>),
}

pub fn availability(records: Vec<Srv>) -> Availability {
    if records.is_empty() {
        Availability::Absent
    } else if records.iter().all(Srv::is_not_offered) {
        Availability::NotOffered
    } else {
        Availability::Offered(records.into_iter().filter(|r| !r.is_not_offered()).collect())
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
        // Weight-0 records go first, so that a running sum of 0 picks them
        // only by the draw of 0; each group starts in random order ("any
        // order" in the RFC) so that ties do not always favour one record.
        let mut zero: Vec<&Srv> = records.iter().filter(|r| r.priority == priority && r.weight == 0).collect();
        let mut weighted: Vec<&Srv> = records.iter().filter(|r| r.priority == priority && r.weight > 0).collect();
        shuffle(&mut zero, random);
        shuffle(&mut weighted, random);
        let mut pending = zero;
        pending.append(&mut weighted);
        while !pending.is_empty() {
            let total: u32 = pending.iter().map(|r| u32::from(r.weight)).sum();
            // The RFC draws from 0 to the sum inclusive, and a draw of 0 takes
            // the first record: that is how weight-0 records keep a small
            // chance, but without one it skews the choice towards whichever
            // record is first (weights 3:1 give 70 %, not the 75 % the RFC's
            // own example intends). Draw 0 only when weight-0 records wait.
            let index = if total == 0 {
                random(pending.len() as u32 - 1) as usize
            } else {
                let pick = if pending[0].weight == 0 { random(total) } else { random(total - 1) + 1 };
                let mut running = 0u32;
                pending
                    .iter()
                    .position(|r| {
                        running += u32::from(r.weight);
                        running >= pick
                    })
                    .unwrap_or(pending.len() - 1)
            };
            out.push(pending.remove(index).clone());
        }
    }
    out
}

/// Fisher–Yates with the caller's random source.
fn shuffle<T>(items: &mut [T], random: &mut dyn FnMut(u32) -> u32) {
    for i in (1..items.len()).rev() {
        let j = random(i as u32) as usize;
        items.swap(i, j);
    }
}

/// The SRV targets a scan follows per record set: a hostile zone with
/// hundreds of targets must not cost hundreds of lookups.
pub const MAX_SRV_TARGETS: usize = 32;

/// The distinct targets of a record set a scan follows, at most
/// [`MAX_SRV_TARGETS`], taken in the order partners try them (lowest
/// priority, then heaviest weight), so that a cap never leaves out the
/// target partners use first; and the targets left out.
pub fn followed_targets(records: &[Srv]) -> (Vec<&str>, Vec<&str>) {
    let mut sorted: Vec<&Srv> = records.iter().filter(|r| !r.is_not_offered()).collect();
    sorted.sort_by(|a, b| {
        (a.priority, std::cmp::Reverse(a.weight), &a.target).cmp(&(b.priority, std::cmp::Reverse(b.weight), &b.target))
    });
    let mut targets: Vec<&str> = Vec::new();
    for record in sorted {
        if !targets.contains(&record.target.as_str()) {
            targets.push(&record.target);
        }
    }
    let left_out = targets.split_off(targets.len().min(MAX_SRV_TARGETS));
    (targets, left_out)
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

/// A small deterministic generator for `order` (xorshift), so that its
/// tests need no global randomness.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn below_or_equal(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % (u64::from(n) + 1)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_keeps_the_targets_partners_try_first() {
        let srv = |priority, weight, target: &str| Srv { priority, weight, port: 5061, target: target.into() };
        let mut records: Vec<Srv> = (0..40).map(|i| srv(20, 1, &format!("b{i:02}"))).collect();
        records.push(srv(0, 0, "first"));
        records.push(srv(0, 0, "first"));
        records.push(srv(10, 5, "."));
        let (kept, left_out) = followed_targets(&records);
        assert_eq!(kept.len(), MAX_SRV_TARGETS);
        assert_eq!(kept[0], "first");
        assert_eq!(left_out.len(), 41 - MAX_SRV_TARGETS);
        assert!(!kept.contains(&".") && !left_out.contains(&"."));
    }
}
