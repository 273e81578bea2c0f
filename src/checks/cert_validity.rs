//! `cert_validity`: the certificate is valid now and for at least
//! `warn_days` more days (`--expiry-warn-days` overrides). Expired or not
//! yet valid fails at the rule's severity; expiring soon at `soon_severity`.
//!
//! ```toml
//! kind = "cert_validity"
//! warn_days = 45
//! soon_severity = "medium"
//! ```

use serde::Deserialize;

use time::OffsetDateTime;

use super::tls::CertificateCheck;
use crate::facts::cert_listing::ListedCertificate;
use crate::facts::values::show;
use crate::facts::view::FactView;
use crate::facts::x509::SeenCertificate;
use crate::findings::{Outcome, Severity, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertValidity {
    /// The rule that reports why no Edge presented a certificate.
    #[serde(default)]
    connection_rule: Option<String>,
    warn_days: u32,
    soon_severity: Severity,
}

impl CertValidity {
    fn verdict(
        &self,
        ctx: &FactView,
        target: &Target,
        not_before: Option<OffsetDateTime>,
        not_after: OffsetDateTime,
    ) -> Outcome {
        let warn_days = ctx.expiry_warn_days.unwrap_or(self.warn_days);
        let left = (not_after - ctx.now).whole_days();
        let until = not_after.date();
        match not_before {
            Some(from) if ctx.now < from => {
                Outcome::fail(target, format!("not valid before {} (not yet valid)", from.date()))
            }
            _ if ctx.now > not_after => Outcome::fail(target, format!("expired on {until} ({} days ago)", -left)),
            _ if left < i64::from(warn_days) => {
                Outcome::fail(target, format!("expires on {until}, in {left} days (less than {warn_days})"))
                    .severity(Some(self.soon_severity))
            }
            _ => Outcome::pass(target, format!("valid until {until} ({left} days)")),
        }
    }
}

impl CertificateCheck for CertValidity {
    fn connection_rule(&self) -> &Option<String> {
        &self.connection_rule
    }

    fn judge(&self, ctx: &FactView, cert: &SeenCertificate) -> Vec<Outcome> {
        let target = Target::from(&cert.origin);
        let outcome = self.verdict(ctx, &target, Some(cert.leaf.not_before), cert.leaf.not_after);
        vec![outcome.written_evidence(cert.written_evidence(ctx.now))]
    }

    /// Every listed certificate, whatever its role: an expired internal
    /// certificate cuts the Edge off from the pool as surely as an expired
    /// external one cuts it off from partners.
    fn judge_listed(&self, ctx: &FactView, cert: &ListedCertificate) -> Option<Vec<Outcome>> {
        let target = Target::from(cert);
        let outcome = match (&cert.not_before, &cert.not_after) {
            (_, Err(why)) | (Err(why), _) => Outcome::error(&target, why.clone()),
            (_, Ok(None)) => Outcome::error(
                &target,
                "the listing leaves out NotAfter, so the expiry is unknown; export with `Format-List *`",
            ),
            (Ok(not_before), Ok(Some(not_after))) => {
                // A date read two ways settles the verdict only if both
                // readings give the same one.
                let starts = not_before.map_or(vec![None], |m| m.readings().into_iter().map(Some).collect());
                let verdicts: Vec<Outcome> = starts
                    .iter()
                    .flat_map(|from| not_after.readings().into_iter().map(move |until| (*from, until)))
                    .map(|(from, until)| self.verdict(ctx, &target, from, until))
                    .collect();
                let first = &verdicts[0];
                if verdicts.iter().all(|v| v.status == first.status && v.severity == first.severity) {
                    let mut outcome = first.clone();
                    if verdicts.len() > 1 {
                        outcome
                            .message
                            .push_str(" (the listing's dates read day-first or month-first; both give this verdict)");
                    }
                    outcome
                } else {
                    let shown = cert.objects[0].object.get("NotAfter").map(|(_, v)| show(v)).unwrap_or_default();
                    Outcome::error(
                        &target,
                        format!(
                            "NotAfter {shown} reads as month/day or day/month, and the verdict depends on which; export the dates unambiguously: `Get-CsCertificate | Select-Object Use,Thumbprint,@{{n='NotAfter';e={{$_.NotAfter.ToString('o')}}}} | Format-List`"
                        ),
                    )
                }
            }
        };
        Some(vec![outcome.evidence(cert.evidence())])
    }
}
